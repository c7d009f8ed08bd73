import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { waitForIndexedVersion } from "../../../lib/publish/indexWait";
import { type AptlyPublication, aptlyPublicationFor, publishToAptly } from "../../../lib/publish/aptly";
import { readStep } from "../../../lib/steps/read";
import { runStep } from "../../../lib/runner";
import { serveDirectory, signingKey, tinyDeb } from "../../support/aptRepo";
import { BASE_IMAGE, useContainerEngine } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const request = (rootDir: string, debPath: string, extra: Record<string, string> = {}) => ({
  rootDir,
  repository: "ralph",
  distro: "debian",
  release: "bookworm",
  prefix: "debian",
  debPath,
  sha256: sha256(debPath),
  ...extra,
});

/**
 * What apt checks of a publication before it reads a package list: InRelease's signature by the key
 * (gpgv), and that the Packages file it lists has the sha256 InRelease names.
 */
function checkAsApt(publicDir: string, prefix: string, keyFile: string): void {
  const dists = join(publicDir, prefix, "dists", "bookworm");
  const keyring = join(tempDir(), "keyring.gpg");
  execFileSync("gpg", ["--batch", "--dearmor", "--output", keyring, keyFile]);
  execFileSync("gpgv", ["--keyring", keyring, join(dists, "InRelease")], { stdio: "pipe" });
  const inRelease = readFileSync(join(dists, "InRelease"), "utf8");
  const listed = /^SHA256:\n(?:^ .*\n)*?^ ([0-9a-f]{64}) +\d+ main\/binary-amd64\/Packages$/m.exec(inRelease);
  expect(listed?.[1], "InRelease lists main/binary-amd64/Packages").toBe(
    sha256(join(dists, "main", "binary-amd64", "Packages")),
  );
}

describe("aptly as a self-hosted apt repository", () => {
  beforeAll(() => useContainerEngine(), 120_000);

  it("publishes signed; apt-get installs the package from the served tree in a clean container", async () => {
    const key = signingKey();
    const root = tempDir("ralph-release-aptly-");
    const deb = tinyDeb("ralph-core", "20261124.1");
    const published = await publishToAptly(request(root, deb, { gpgKey: key.keyId, gnupgHome: key.gnupgHome }));
    expect(published).toMatchObject({ prefix: "debian", signed: true, packageRef: "ralph-core_20261124.1_amd64" });
    expect(existsSync(join(published.publicDir, "debian", "dists", "bookworm", "InRelease"))).toBe(true);

    const served = await serveDirectory(published.publicDir);
    try {
      await waitForIndexedVersion({
        baseUrl: `${served.url}/debian`,
        release: "bookworm",
        packageName: "ralph-core",
        version: "20261124.1",
        deadlineMs: 5_000,
        intervalMs: 200,
      });
      const keyFile = published.keyFile as string;
      const script = [
        "set -e",
        "mkdir -p /etc/apt/keyrings && cp /srv/aptly-key/gpgkey /etc/apt/keyrings/ralph.asc",
        `echo "deb [signed-by=/etc/apt/keyrings/ralph.asc] ${served.url}/debian/ bookworm main" > /etc/apt/sources.list.d/ralph.list`,
        // Only the ralph source: the install must come from aptly's tree, verified with its key.
        "apt-get update -o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=/etc/apt/sources.list.d",
        "apt-get install -y ralph-core=20261124.1",
        "cat /usr/share/ralph-core/VERSION",
      ].join("\n");
      const result = await runStep(
        {
          kind: "container",
          image: BASE_IMAGE,
          asRoot: true,
          copyIn: [{ host: keyFile, container: "/srv/aptly-key/gpgkey" }],
        },
        ["sh", "-c", script],
        { cwd: "/" },
      );
      expect(result.output).toMatch(/ralph-core 20261124\.1\s*$/);
      expect(result.status).toBe(0);
      expect(served.requested).toContain("/debian/dists/bookworm/InRelease");
    } finally {
      await served.close();
    }
  }, 300_000);

  it("re-publishing the same file changes nothing; a new version joins it; a changed file is refused", async () => {
    const root = tempDir("ralph-release-aptly-");
    const first = tinyDeb("ralph-core", "20261124.1");
    const published = await publishToAptly(request(root, first));
    const packagesFile = join(published.publicDir, "debian", "dists", "bookworm", "main", "binary-amd64", "Packages");
    const poolFile = join(
      published.publicDir,
      "debian",
      "pool",
      "main",
      "r",
      "ralph-core",
      "ralph-core_20261124.1_amd64.deb",
    );
    const before = {
      packages: readFileSync(packagesFile, "utf8"),
      pool: readFileSync(poolFile),
      mtime: statSync(poolFile).mtimeMs,
    };
    const again = await publishToAptly(request(root, first));
    expect(again).toEqual(published);
    expect(readFileSync(packagesFile, "utf8")).toBe(before.packages);
    expect(readFileSync(poolFile).equals(before.pool)).toBe(true);
    expect(statSync(poolFile).mtimeMs).toBe(before.mtime);
    expect(existsSync(join(again.publicDir, "debian", "dists", "bookworm", "InRelease"))).toBe(false);
    await publishToAptly(request(root, tinyDeb("ralph-core", "20261124.2")));
    const index = readFileSync(
      join(again.publicDir, "debian", "dists", "bookworm", "main", "binary-amd64", "Packages"),
      "utf8",
    );
    expect([...index.matchAll(/^Version: (.+)$/gm)].map((m) => m[1]).sort()).toEqual(["20261124.1", "20261124.2"]);

    const changed = tinyDeb("ralph-core", "20261124.1", "different content\n");
    await expect(publishToAptly(request(root, changed))).rejects.toThrow(
      /ralph-core_20261124.1_amd64 is already in aptly repository 'ralph' .* never changes/,
    );
    await expect(publishToAptly({ ...request(root, first), sha256: "0".repeat(64) })).rejects.toThrow(
      /changed after it was verified/,
    );
  }, 120_000);
});

describe("a release and its snapshots in one aptly root", () => {
  it("a snapshot publishes apart: the signed release publication still verifies as apt checks it; unsigned over signed is refused", async () => {
    const key = signingKey();
    const root = tempDir("ralph-release-aptly-");
    const release = aptlyPublicationFor("release", "debian", "bookworm");
    const snapshot = aptlyPublicationFor("snapshot", "debian", "bookworm");
    expect(snapshot.prefix).not.toBe(release.prefix);
    expect(snapshot.repository).not.toBe(release.repository);
    const signed = { gpgKey: key.keyId, gnupgHome: key.gnupgHome };
    const released = await publishToAptly({
      ...request(root, tinyDeb("ralph-core", "20261124.1"), signed),
      ...release,
    });
    checkAsApt(released.publicDir, release.prefix, released.keyFile as string);
    const releasePackages = readFileSync(
      join(released.publicDir, "debian", "dists", "bookworm", "main", "binary-amd64", "Packages"),
      "utf8",
    );

    // A snapshot run after it, unsigned, into the same root (the default build/aptly of both modes).
    const snapshotVersion = "20261124.2~feature.SNAPSHOT.1";
    const published = await publishToAptly({ ...request(root, tinyDeb("ralph-core", snapshotVersion)), ...snapshot });
    expect(published).toMatchObject({ prefix: "snapshots/debian", signed: false });
    checkAsApt(released.publicDir, release.prefix, released.keyFile as string);
    expect(
      readFileSync(join(released.publicDir, "debian", "dists", "bookworm", "main", "binary-amd64", "Packages"), "utf8"),
    ).toBe(releasePackages);
    expect(
      readFileSync(
        join(published.publicDir, "snapshots", "debian", "dists", "bookworm", "main", "binary-amd64", "Packages"),
        "utf8",
      ),
    ).toContain(`Version: ${snapshotVersion}`);

    // An unsigned publish into the signed publication (a stack pointed at it) is refused, and it still verifies.
    await expect(publishToAptly({ ...request(root, tinyDeb("ralph-core", "20261124.3")), ...release })).rejects.toThrow(
      `${join(root, "public", "debian")} (bookworm) is a signed publication, and this publish is unsigned: nothing was published. Fix: set aptlyGpgKey`,
    );
    checkAsApt(released.publicDir, release.prefix, released.keyFile as string);

    // A snapshot an earlier ralph-release put into the release's own local repository is never
    // published to release users: refused, with the command that takes it out.
    const legacy = tinyDeb("ralph-core", "20261124.3~old.SNAPSHOT.1");
    execFileSync("aptly", [`-config=${join(root, "aptly.conf")}`, "repo", "add", release.repository, legacy]);
    await expect(
      publishToAptly({ ...request(root, tinyDeb("ralph-core", "20261124.4"), signed), ...release }),
    ).rejects.toThrow(
      `holds snapshots, which would be published to release users (ralph-core_20261124.3~old.SNAPSHOT.1_amd64); nothing was published. Fix: aptly -config=${join(root, "aptly.conf")} repo remove ${release.repository} 'Version (%*SNAPSHOT*)'`,
    );
    checkAsApt(released.publicDir, release.prefix, released.keyFile as string);
  }, 120_000);
});

describe("drift in an aptly publication", () => {
  it("a release's package taken out by hand: refresh names it and the publish refuses to put it back; a snapshot's is put back", async () => {
    const root = tempDir("ralph-release-aptly-");
    const conf = `-config=${join(root, "aptly.conf")}`;
    const takeOut = (repository: string, prefix: string) => {
      execFileSync("aptly", [conf, "repo", "remove", repository, "ralph-core"], { stdio: "pipe" });
      execFileSync("aptly", [conf, "publish", "update", "-skip-signing", "bookworm", prefix], { stdio: "pipe" });
    };
    for (const mode of ["release", "snapshot"] as const) {
      const publication = aptlyPublicationFor(mode, "debian", "bookworm");
      const version = mode === "release" ? "20261124.1" : "20261124.2~feature.SNAPSHOT.1";
      const asked = { ...request(root, tinyDeb("ralph-core", version)), ...publication };
      const published = await publishToAptly(asked);
      const read = () => readStep({ command: "apt aptly", request: asked, result: published }, { recordedTags: {} });
      expect(await read()).toEqual({ present: true });
      // Another runner's root, not on this machine: not judged.
      const elsewhere = { ...asked, rootDir: join(root, "not-here") };
      expect(
        await readStep({ command: "apt aptly", request: elsewhere, result: published }, { recordedTags: {} }),
      ).toEqual({ present: true });

      takeOut(publication.repository, publication.prefix);
      const drifted = (await read()).result as AptlyPublication;
      expect(drifted.drift).toBe(
        `ralph-core_${version}_amd64 is gone from the aptly publication ${publication.prefix} bookworm; this stack published it (sha256 ${asked.sha256})`,
      );
      if (mode === "release") {
        await expect(publishToAptly(asked, drifted)).rejects.toThrow(
          /is gone from the aptly publication debian bookworm; .*not published again behind its maintainers' back.*pulumi state delete/s,
        );
        expect((await read()).result).toMatchObject({ drift: drifted.drift });
      } else {
        await publishToAptly(asked, drifted);
        expect(await read()).toEqual({ present: true });
      }
    }
  }, 120_000);
});

describe("waiting for the apt index", () => {
  it("returns once a version published while it waits is indexed", async () => {
    const root = tempDir("ralph-release-aptly-");
    await publishToAptly(request(root, tinyDeb("ralph-core", "20261124.1")));
    const served = await serveDirectory(join(root, "public"));
    try {
      const waiting = waitForIndexedVersion({
        baseUrl: `${served.url}/debian/`,
        release: "bookworm",
        packageName: "ralph-core",
        version: "20261124.2",
        deadlineMs: 20_000,
        intervalMs: 200,
      });
      await new Promise((later) => setTimeout(later, 600));
      await publishToAptly(request(root, tinyDeb("ralph-core", "20261124.2")));
      const { waitedMs } = await waiting;
      expect(waitedMs).toBeGreaterThanOrEqual(600);
    } finally {
      await served.close();
    }
  }, 60_000);

  it("stops at the deadline, saying which versions it saw", async () => {
    const root = tempDir("ralph-release-aptly-");
    await publishToAptly(request(root, tinyDeb("ralph-core", "20261124.1")));
    const served = await serveDirectory(join(root, "public"));
    try {
      await expect(
        waitForIndexedVersion({
          baseUrl: `${served.url}/debian`,
          release: "bookworm",
          packageName: "ralph-core",
          version: "20261124.9",
          deadlineMs: 1_000,
          intervalMs: 200,
        }),
      ).rejects.toThrow(/ralph-core 20261124.9 is not installable .* \(ralph-core versions indexed: 20261124.1\)/);
      await expect(
        waitForIndexedVersion({
          baseUrl: `${served.url}/ubuntu`,
          release: "jammy",
          packageName: "ralph-core",
          version: "20261124.1",
          deadlineMs: 300,
          intervalMs: 200,
        }),
      ).rejects.toThrow(/no index at http:\/\/127.0.0.1:\d+\/ubuntu\/dists\/jammy\/main\/binary-amd64\/Packages/);
    } finally {
      await served.close();
    }
  }, 60_000);
});
