/**
 * The README's main command, `npm run release -- snapshot up`, run as a newcomer runs it: in the
 * project (a copy), Ralph cloned beside it as ../ralph, the engine from `npm run engine` on PATH, no
 * backend or passphrase set (Pulumi.yaml's local state, the snapshot stack's empty passphrase).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_IMAGE, useContainerEngine } from "../support/containers";
import { engineProject, newcomerEnvironment } from "../support/engine";
import { removeTempDirs } from "../support/gitRepo";
import { startPackagecloudServer } from "../support/packagecloudServer";
import { ralphFixtureRepo } from "../support/ralphFixture";

const run = promisify(execFile);

beforeAll(useContainerEngine);
afterAll(removeTempDirs);

describe("npm run release -- snapshot up, under the real engine", () => {
  it("builds, verifies and publishes the deb of ../ralph and prints the summary", async () => {
    const project = engineProject();
    // README: git clone https://github.com/allegro/ralph ../ralph
    execFileSync("git", ["clone", "--quiet", ralphFixtureRepo().dir, join(project.dir, "..", "ralph")]);
    // What this machine lacks for the default (a Docker provider, ubuntu:jammy): the deb alone, built here.
    const settings = ["images=false", "builder=host", "distribution=debian/bookworm", `baseImage=${BASE_IMAGE}`];
    const env = newcomerEnvironment(project);
    const { stdout } = await run(
      "npm",
      ["run", "--silent", "release", "--", "snapshot", "up", "--json", ...settings.flatMap((s) => ["--set", s])],
      { cwd: project.dir, env, maxBuffer: 64 * 1024 * 1024 },
    );
    const summary = JSON.parse(stdout);
    // ../ralph is on ng: the stack is that branch's own.
    expect(summary).toMatchObject({
      stack: "snapshot-ng",
      operation: "up",
      result: "succeeded",
      version: "20241124.1",
    });
    // A snapshot's artifacts are apart from a release's of the same version.
    expect(summary.deb.path).toBe(
      join(project.dir, "build", "snapshots", "20241124.1", "ralph-core_20241124.1_amd64.deb"),
    );
    expect(existsSync(summary.deb.path)).toBe(true);
    // Signed with throw-away keys (none configured): verify checks it with their public half only when
    // told to, as the summary says (integrity, not who made it); with no anchor it fails.
    const dir = join(project.dir, "build", "snapshots", "20241124.1");
    expect(summary.attested).toMatchObject({
      dir,
      sigstoreSigning: "throw-away key",
      checksumsSigning: "throw-away key",
    });
    const unanchored = await run("npm", ["run", "--silent", "verify", "--", "20241124.1"], {
      cwd: project.dir,
      env,
    }).then(
      () => ({ code: 0, stdout: "" }),
      (error: { code: number; stdout: string }) => error,
    );
    expect([unanchored.code, unanchored.stdout]).toEqual([
      1,
      expect.stringContaining("✗ trust anchor: no trust anchor"),
    ]);
    const verified = await run(
      "npm",
      ["run", "--silent", "verify", "--", "20241124.1", "--gpg-key", "build/snapshots/20241124.1/SHA256SUMS.key.asc"],
      { cwd: project.dir, env },
    );
    expect(verified.stdout).toContain("✓ signature SHA256SUMS.asc: good, by");
    expect(verified.stdout).toContain("✓ sbom ralph-core_20241124.1_amd64.cdx.json: lists what the deb holds");
    expect(verified.stdout).toMatch(/All \d+ checks passed/);
    expect(
      existsSync(join(project.dir, "build", "aptly", "public", "snapshots", "debian", "dists", "bookworm", "Release")),
    ).toBe(true);
    // Pulumi.yaml's backend: the state is inside the project.
    expect(
      existsSync(join(project.dir, ".pulumi-state", ".pulumi", "stacks", "ralph-release", "snapshot-ng.json")),
    ).toBe(true);
  }, 600_000);

  it("a second run while one is going is refused by the state lock, saying who holds it; the first completes", async () => {
    const project = engineProject();
    execFileSync("git", ["clone", "--quiet", ralphFixtureRepo().dir, join(project.dir, "..", "ralph")]);
    const settings = ["images=false", "builder=host", "distribution=debian/bookworm", `baseImage=${BASE_IMAGE}`];
    const args = [
      "run",
      "--silent",
      "release",
      "--",
      "snapshot",
      "up",
      "--json",
      ...settings.flatMap((s) => ["--set", s]),
    ];
    const env = newcomerEnvironment(project);
    const first = run("npm", args, { cwd: project.dir, env, maxBuffer: 64 * 1024 * 1024 });
    // The first holds the lock once the engine starts its update (the deb build then takes a minute).
    const locks = join(project.dir, ".pulumi-state", ".pulumi", "locks");
    const deadline = Date.now() + 120_000;
    while (!(existsSync(locks) && readdirSync(locks, { recursive: true }).some((f) => String(f).endsWith(".json")))) {
      if (Date.now() > deadline) throw new Error("the first run never took the lock");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const second = await run("npm", args, { cwd: project.dir, env }).then(
      () => expect.fail("a second concurrent up succeeded"),
      (error: { code: number; stdout: string }) => error,
    );
    expect(second.code).toBe(2);
    expect(JSON.parse(second.stdout)).toMatchObject({
      result: "refused",
      message: expect.stringMatching(
        /^another run on stack snapshot-ng holds its state lock \(\S+ \(pid \d+\) at \S+\): nothing was started\./,
      ),
    });
    expect(JSON.parse((await first).stdout)).toMatchObject({ result: "succeeded", version: "20241124.1" });
  }, 600_000);

  it("each branch its own snapshot stack: B's up leaves A's package alone; destroying A's stack yanks A's only", async () => {
    const server = await startPackagecloudServer({ repositories: ["allegro/ralph-snapshots"] });
    try {
      const project = engineProject();
      const ralph = ralphFixtureRepo();
      // A token makes the stack hold a secret: the empty passphrase of a local snapshot stack is refused.
      const withoutPassphrase = { ...newcomerEnvironment(project), PACKAGECLOUD_TOKEN: server.token };
      const refused = await run("npm", ["run", "--silent", "release", "--", "snapshot", "up", "--source", ralph.dir], {
        cwd: project.dir,
        env: withoutPassphrase,
      }).catch((error: { code: number; stdout: string; stderr: string }) => error);
      const { code, stdout, stderr } = refused as { code: number; stdout: string; stderr: string };
      expect(code).toBe(2);
      // The check before anything starts names it (progress on stderr); the summary says nothing started.
      expect(stderr).toMatch(
        /✗ passphrase +the snapshot stack would hold packagecloudToken as a secret, and a local snapshot stack's passphrase is empty/,
      );
      expect(stdout).toContain("Nothing was started.");
      const env = { ...withoutPassphrase, PULUMI_CONFIG_PASSPHRASE: "a real one" };
      const settings = [
        ...["images=false", "builder=host", "distribution=debian/bookworm", `baseImage=${BASE_IMAGE}`],
        ...["debTargets=packagecloud,aptly", `packagecloudUrl=${server.url}`],
      ];
      const release = async (...args: string[]) =>
        JSON.parse(
          (
            await run("npm", ["run", "--silent", "release", "--", "snapshot", ...args, "--json"], {
              cwd: project.dir,
              env,
              maxBuffer: 64 * 1024 * 1024,
            })
          ).stdout,
        );
      const upOn = async (branch: string) => {
        ralph.checkout("-B", branch, "20241124.1");
        ralph.commit(`Work on ${branch}`, `src/ralph/${branch.replace("/", "_")}.py`);
        return release("up", "--source", ralph.dir, ...settings.flatMap((s) => ["--set", s]));
      };
      const a = await upOn("feature/a");
      const b = await upOn("feature/b");
      expect([a.stack, b.stack]).toEqual(["snapshot-feature-a", "snapshot-feature-b"]);
      expect([a.result, b.result]).toEqual(["succeeded", "succeeded"]);
      // --set and the token were those runs' own: the stack files keep neither.
      for (const stack of [a.stack, b.stack]) {
        const file = readFileSync(join(project.dir, `Pulumi.${stack}.yaml`), "utf8");
        expect(file).not.toMatch(/packagecloudUrl|packagecloudToken|debTargets/);
      }
      const fileOf = (summary: { deb: { path: string } }) => summary.deb.path.split("/").at(-1) as string;
      const held = () => server.packages.map((p) => `${p.repository} ${p.filename}`).sort();
      expect(held()).toEqual([`allegro/ralph-snapshots ${fileOf(a)}`, `allegro/ralph-snapshots ${fileOf(b)}`].sort());
      expect(server.requests.filter((r) => r.route === "yank")).toEqual([]);
      // Both in the snapshot publication of the one aptly root, apart from where releases go.
      const packages = readFileSync(
        join(project.dir, "build/aptly/public/snapshots/debian/dists/bookworm/main/binary-amd64/Packages"),
        "utf8",
      );
      for (const summary of [a, b]) expect(packages).toContain(`Filename: pool/main/r/ralph-core/${fileOf(summary)}`);
      expect(existsSync(join(project.dir, "build/aptly/public/debian"))).toBe(false);

      // feature/a is merged and deleted: its stack goes by name, without a checkout of it.
      const destroyed = await release("destroy", "--branch", "feature/a", "--yes");
      expect(destroyed).toMatchObject({ stack: "snapshot-feature-a", result: "succeeded" });
      const yanks = server.requests.filter((r) => r.route === "yank");
      expect(yanks.map((r) => r.path.split("/").at(-1))).toEqual([fileOf(a)]);
      expect(held()).toEqual([`allegro/ralph-snapshots ${fileOf(b)}`]);
    } finally {
      await server.close();
    }
  }, 600_000);

  it("checks what each operation needs: a bad setting refuses preview, not destroy (which runs no program)", async () => {
    const project = engineProject();
    const env = newcomerEnvironment(project);
    const release = (operation: string) =>
      run(
        "npm",
        // No checkout here: --branch names the stack.
        [
          "run",
          "--silent",
          "release",
          "--",
          "snapshot",
          operation,
          "--json",
          "--yes",
          "--branch",
          "ng",
          "--set",
          "debTargets=ftp",
        ],
        {
          cwd: project.dir,
          env,
        },
      ).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const preview = await release("preview");
    expect(preview.code).toBe(2);
    expect(preview.stderr).toMatch(/^✗ config +ralph-release:debTargets: names "ftp"/m);
    const destroy = await release("destroy");
    expect(JSON.parse(destroy.stdout)).toMatchObject({ operation: "destroy", result: "succeeded" });
    expect(destroy.code).toBe(0);
  }, 120_000);
});
