/**
 * The README's main command, `npm run release -- snapshot up`, run as a newcomer runs it: in the
 * project (a copy), Ralph cloned beside it as ../ralph, the engine from `npm run engine` on PATH, no
 * backend or passphrase set (Pulumi.yaml's local state, the snapshot stack's empty passphrase).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_IMAGE, useContainerEngine } from "../support/containers";
import { engineProject, newcomerEnvironment } from "../support/engine";
import { removeTempDirs } from "../support/gitRepo";
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
    expect(summary).toMatchObject({ stack: "snapshot", operation: "up", result: "succeeded", version: "20241124.1" });
    expect(summary.deb.path).toBe(join(project.dir, "build", "20241124.1", "ralph-core_20241124.1_amd64.deb"));
    expect(existsSync(summary.deb.path)).toBe(true);
    // Signed with throw-away keys (none configured); npm run verify checks it with their public halves.
    expect(summary.attested).toEqual({
      dir: join(project.dir, "build", "20241124.1"),
      sigstoreSigning: "throw-away key",
      checksumsSigning: "throw-away key",
    });
    const verified = await run("npm", ["run", "--silent", "verify", "--", "20241124.1"], { cwd: project.dir, env });
    expect(verified.stdout).toContain("✓ signature SHA256SUMS.asc: good, by");
    expect(verified.stdout).toContain("✓ sbom ralph-core_20241124.1_amd64.cdx.json: lists what the deb holds");
    expect(verified.stdout).toMatch(/All \d+ checks passed/);
    expect(
      existsSync(join(project.dir, "build", "aptly", "public", "snapshots", "debian", "dists", "bookworm", "Release")),
    ).toBe(true);
    // Pulumi.yaml's backend: the state is inside the project.
    expect(existsSync(join(project.dir, ".pulumi-state", ".pulumi", "stacks", "ralph-release", "snapshot.json"))).toBe(
      true,
    );
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
        /^another run on stack snapshot holds its state lock \(\S+ \(pid \d+\) at \S+\): nothing was started\./,
      ),
    });
    expect(JSON.parse((await first).stdout)).toMatchObject({ result: "succeeded", version: "20241124.1" });
  }, 600_000);

  it("checks what each operation needs: a bad setting refuses preview, not destroy (which runs no program)", async () => {
    const project = engineProject();
    const env = newcomerEnvironment(project);
    const release = (operation: string) =>
      run(
        "npm",
        ["run", "--silent", "release", "--", "snapshot", operation, "--json", "--yes", "--set", "debTargets=ftp"],
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
