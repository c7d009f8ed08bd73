/**
 * `npm run up` / `npm run up:release`: the Pulumi CLI's own display on a stack, run as a newcomer
 * runs it, with no backend or passphrase set: the snapshot stack never stops at a passphrase prompt,
 * and the release stack says what to set instead of asking.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { useContainerEngine } from "../support/containers";
import { debOnlyConfig, engineProject, newcomerEnvironment } from "../support/engine";
import { removeTempDirs } from "../support/gitRepo";
import { ralphFixtureRepo } from "../support/ralphFixture";

beforeAll(useContainerEngine);
afterAll(removeTempDirs);

function npmRun(dir: string, env: Record<string, string>, script: string) {
  // stdin closed: a prompt would fail at once instead of hanging the test. --yes: `pulumi up` asks
  // for confirmation only on a terminal, and this is none.
  const result = spawnSync("npm", ["run", "--silent", script, ...(script === "up" ? ["--", "--yes"] : [])], {
    cwd: dir,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm run up and up:release, under the real engine", () => {
  it("snapshot goes up without a passphrase; release is refused with the fix instead of a prompt", () => {
    const project = engineProject();
    execFileSync("git", ["clone", "--quiet", ralphFixtureRepo().dir, join(project.dir, "..", "ralph")]);
    const config = Object.fromEntries(
      Object.entries(debOnlyConfig("../ralph")).map(([key, value]) => [`ralph-release:${key}`, value]),
    );
    writeFileSync(join(project.dir, "Pulumi.snapshot.yaml"), stringify({ config }));
    const env = newcomerEnvironment(project);

    const up = npmRun(project.dir, env, "up");
    expect(up.output).not.toMatch(/passphrase/i);
    expect(up.output).toMatch(/deb:Build ralph-core-build created/);
    expect(up.status, up.output).toBe(0);

    const release = npmRun(project.dir, env, "up:release");
    expect(release.status).toBe(2);
    expect(release.output).toContain(
      "the release stack's secrets are encrypted with a passphrase: set PULUMI_CONFIG_PASSPHRASE",
    );
  }, 300_000);
});
