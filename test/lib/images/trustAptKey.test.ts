/** docker/ralph/trust-apt-key.sh: a release image trusts its apt repository's key by the pinned fingerprint only. */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

const SCRIPT = join(PROJECT_DIR, "docker/ralph/trust-apt-key.sh");

/** A signing key in its own GnuPG home: its fingerprint and armored public half. */
function newKey(name: string): { fingerprint: string; armored: string } {
  const home = tempDir("ralph-release-aptkey-");
  const gpg = (...args: string[]) =>
    execFileSync("gpg", ["--homedir", home, "--batch", "--quiet", ...args], { encoding: "utf8" });
  gpg("--passphrase", "", "--quick-generate-key", `${name} <${name}@example.invalid>`, "ed25519", "sign", "never");
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(gpg("--with-colons", "--list-keys"))![1];
  return { fingerprint, armored: gpg("--armor", "--export", fingerprint) };
}

describe("trust-apt-key", () => {
  let repository: { fingerprint: string; armored: string };
  let attacker: { fingerprint: string; armored: string };
  beforeAll(() => {
    repository = newKey("repository");
    attacker = newKey("attacker");
  });

  const trust = (keyFile: string, pinned: string) => {
    const keyring = join(tempDir(), "ralph.gpg");
    const result = spawnSync("sh", [SCRIPT, keyFile, pinned, keyring], { encoding: "utf8" });
    return { ...result, keyring };
  };
  const file = (content: string) => {
    const path = join(tempDir(), "gpgkey");
    writeFileSync(path, content);
    return path;
  };

  it("writes a keyring of the pinned key when the download is that key (pinned as packagecloud shows it: spaced, any case)", () => {
    const spaced = repository.fingerprint.toLowerCase().replace(/(.{4})/g, "$1 ");
    const { status, stderr, keyring } = trust(file(repository.armored), spaced);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    // What apt's signed-by reads: a binary keyring with that one key.
    const shown = execFileSync("gpg", ["--batch", "--with-colons", "--show-keys", keyring], { encoding: "utf8" });
    expect(shown.match(/^fpr:+([0-9A-F]+):/gm)?.map((line) => line.split(":")[9])[0]).toBe(repository.fingerprint);
    expect(readFileSync(keyring).subarray(0, 16).toString()).not.toContain("BEGIN PGP");
  });

  it("refuses a key swapped on the way, naming what it got and the pin, and writes no keyring", () => {
    const { status, stderr, keyring } = trust(file(attacker.armored), repository.fingerprint);
    expect(status).toBe(1);
    expect(stderr).toContain(`[${attacker.fingerprint}], not the pinned ${repository.fingerprint}: not trusted`);
    expect(existsSync(keyring)).toBe(false);
  });

  it("refuses the pinned key with another beside it (an attacker's key riding along)", () => {
    const { status, stderr } = trust(file(repository.armored + attacker.armored), repository.fingerprint);
    expect(status).toBe(1);
    expect(stderr).toContain(`[${repository.fingerprint} ${attacker.fingerprint}]`);
  });

  it("is what the release image runs on the downloaded key, before the repository using it is added", () => {
    const dockerfile = readFileSync(join(PROJECT_DIR, "docker/ralph/Dockerfile"), "utf8");
    const trusts = dockerfile.indexOf(
      'sh /tmp/trust-apt-key.sh /tmp/ralph-apt.key "$APT_KEY_FINGERPRINT" /usr/share/keyrings/ralph.gpg',
    );
    expect(trusts).toBeGreaterThan(dockerfile.indexOf('curl -fsSL "$APT_KEY_URL" -o /tmp/ralph-apt.key'));
    expect(trusts).toBeLessThan(dockerfile.indexOf("signed-by=/usr/share/keyrings/ralph.gpg"));
    expect(dockerfile).not.toMatch(/--dearmor|apt-key add/);
  });

  it("refuses without a pin, and a download that is no key", () => {
    expect(trust(file(repository.armored), "").stderr).toContain("no fingerprint is pinned");
    const notAKey = trust(file("<html>502 Bad Gateway</html>"), repository.fingerprint);
    expect(notAKey.status).toBe(1);
    expect(notAKey.stderr).toContain(`[], not the pinned ${repository.fingerprint}`);
  });
});
