/**
 * Times of the real Pulumi engine on this project. Prints figures; asserts nothing.
 *
 *   npx tsx scripts/bench-engine.ts     (after npm run engine; needs .ci/containers.sh's engine)
 *
 * engine cold:    `npm run engine` with an empty Go build cache (modules already downloaded)
 * engine warm:    `npm run engine` with the binaries in place (the go.sum stamp matches)
 * first up:       a deb-only snapshot stack (host builder, aptly) on a Ralph-shaped fixture
 * no-op up:       the same again, nothing changed
 * one-file edit:  preview after a commit that changes one Ralph source file
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_DIR, useContainerEngine } from "../test/support/containers";
import { debOnlyConfig, engineProject } from "../test/support/engine";
import { removeTempDirs, tempDir } from "../test/support/gitRepo";
import { ralphFixtureRepo } from "../test/support/ralphFixture";
import { timed } from "./timed";

async function main() {
  const engine = (env: NodeJS.ProcessEnv = process.env) =>
    execFileSync("npm", ["run", "--silent", "engine"], { cwd: PROJECT_DIR, env, stdio: "ignore" });
  if (!process.argv.includes("--skip-cold")) {
    rmSync(join(PROJECT_DIR, ".tools", "engine.stamp"), { force: true });
    await timed("engine cold (empty Go build cache)", () => engine({ ...process.env, GOCACHE: tempDir("gocache-") }));
  }
  await timed("engine warm (binaries in place)", () => engine());

  useContainerEngine();
  const project = engineProject();
  const repo = ralphFixtureRepo();
  const stack = await project.stack("snapshot", debOnlyConfig(repo.dir));
  await timed("first up (deb build, gate, aptly)", () => stack.up());
  await timed("no-op up", () => stack.up());
  repo.commit("Fix the DC view", "src/ralph/dc_view.py");
  await timed("preview after a one-file change", () => stack.preview());
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(removeTempDirs);
