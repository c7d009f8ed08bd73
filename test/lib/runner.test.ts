import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_IMAGE, PROJECT_DIR, useContainerEngine } from "../support/containers";
import { removeTempDirs } from "../support/gitRepo";

afterAll(removeTempDirs);

/** The step containers on the engine, as a user finds one a step left: by the label. */
const stepContainers = () =>
  spawnSync("docker", ["ps", "--all", "--filter", "label=ralph-release=step", "--format", "{{.Names}}"], {
    encoding: "utf8",
  })
    .stdout.split("\n")
    .filter(Boolean);

describe("a step's container", () => {
  beforeAll(() => useContainerEngine(), 120_000);

  it("is removed when the step is stopped (SIGTERM) while its command runs", async () => {
    const before = stepContainers();
    const step = `require(${JSON.stringify(join(PROJECT_DIR, "lib", "runner.ts"))}).runStep(
      { kind: "container", image: ${JSON.stringify(BASE_IMAGE)} }, ["sleep", "60"], { cwd: "/" })`;
    const child = spawn(process.execPath, ["--require", "tsx/cjs", "-e", step], { cwd: PROJECT_DIR, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    let running: string[] = [];
    for (let attempt = 0; attempt < 100 && running.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      running = stepContainers().filter((name) => !before.includes(name));
    }
    expect(running).toHaveLength(1);
    child.kill("SIGTERM");
    // It stops as a SIGTERM stops a process, once its container is gone.
    expect(await exited).toBe("SIGTERM");
    expect(stepContainers()).not.toContain(running[0]);
  }, 60_000);
});
