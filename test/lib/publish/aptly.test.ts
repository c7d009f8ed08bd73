import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { waitForIndexedVersion } from "../../../lib/publish/indexWait";
import { publishToAptly } from "../../../lib/publish/aptly";
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
  debPath,
  sha256: sha256(debPath),
  ...extra,
});

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
          mounts: [{ host: dirname(keyFile), container: "/srv/aptly-key", readOnly: true }],
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
