/**
 * Evaluation at the floor: the real engine on this project beside an empty program on the same engine.
 * Prints figures; asserts nothing.
 *
 *   npx tsx scripts/bench-engine.ts [--pairs N]     (after npm run engine; needs .ci/containers.sh's engine)
 *
 * - no-op `pulumi up` and `pulumi preview --expect-no-changes` of a deb-only snapshot stack (host
 *   builder, aptly) of a Ralph-shaped fixture, and of an empty TypeScript program with this project's
 *   Pulumi.yaml runtime and tsconfig: N pairs run A B A B…, medians, spread (min–max), the ratio;
 * - the program's own start, part by part, in a fresh process: module load, config, git (with the
 *   number of git processes), hashing;
 * - one step's start-up: this project's CLI as a step runs it, and as `npm run --silent cli` did.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_DIR, useContainerEngine } from "../test/support/containers";
import { debOnlyConfig, type EngineProject, engineProject } from "../test/support/engine";
import { removeTempDirs, tempDir } from "../test/support/gitRepo";
import { ralphFixtureRepo } from "../test/support/ralphFixture";
import { timed } from "./timed";

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

/** An empty program beside this one: the same runtime options and tsconfig, its own name. */
function emptyProgram(): string {
  const dir = tempDir("ralph-release-empty-program-");
  const pulumiYaml = readFileSync(join(PROJECT_DIR, "Pulumi.yaml"), "utf8")
    .replace(/^name: .*$/m, "name: bench-empty")
    .replace(/^(?:# .*\n)*main: .*\n/m, "")
    .replace(/^backend:\n(?: .*\n)*/m, "");
  writeFileSync(join(dir, "Pulumi.yaml"), pulumiYaml);
  for (const file of ["tsconfig.json", "tsconfig.pulumi.json"]) {
    try {
      writeFileSync(join(dir, file), readFileSync(join(PROJECT_DIR, file)));
    } catch {
      // An older checkout (the "before" figures) has no tsconfig.pulumi.json.
    }
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-empty", private: true, type: "commonjs" }));
  writeFileSync(join(dir, "index.ts"), "export {};\n");
  symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function pulumi(project: EngineProject, cwd: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync("pulumi", args, { cwd, env: { ...process.env, ...project.env }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`pulumi ${args.join(" ")} in ${cwd}: ${result.stdout}${result.stderr}`);
  return seconds(start);
}

/** N pairs, A then B, so that a slow minute of the machine falls on both sides. */
function paired(label: string, pairs: number, a: () => number, b: () => number): void {
  const times = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < pairs; i++) {
    times.a.push(a());
    times.b.push(b());
  }
  const [ma, mb] = [median(times.a), median(times.b)];
  const ratio = times.a.map((t, i) => t / times.b[i]);
  console.log(
    `${label.padEnd(40)} ${ma.toFixed(2).padStart(6)} s (${spread(times.a)})  ` +
      `${mb.toFixed(2).padStart(6)} s (${spread(times.b)})  ${(ma / mb).toFixed(2)}× (${spread(ratio)})`,
  );
}

/** The program's start, part by part, in a process of its own (nothing loaded or cached yet). */
function breakdown(source: string): void {
  const bin = tempDir("ralph-release-git-count-");
  const log = join(bin, "calls");
  const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> ${log}\nexec ${realGit} "$@"\n`);
  chmodSync(join(bin, "git"), 0o755);
  const probe = `
    const t = () => process.hrtime.bigint();
    const ms = (s) => (Number(process.hrtime.bigint() - s) / 1e6).toFixed(0).padStart(6) + " ms";
    const fs = require("node:fs");
    const calls = () => (fs.existsSync(${JSON.stringify(log)}) ? fs.readFileSync(${JSON.stringify(log)}, "utf8").split("\\n").length - 1 : 0);
    let s = t(); require("@pulumi/pulumi"); console.log("  module load: @pulumi/pulumi            " + ms(s));
    s = t(); require("./components/RalphRelease"); console.log("  module load: the program's modules     " + ms(s));
    s = t(); const { parseConfig } = require("./lib/config"); const { rawConfig, stackSettings } = require("./cli/stackConfig");
    const settings = stackSettings({ stack: "snapshot", projectDir: process.cwd(), source: ${JSON.stringify(source)}, set: [], cwd: process.cwd(), env: {}, secretPlaceholder: "x" });
    const parsed = parseConfig(rawConfig("snapshot", process.cwd(), settings)).settings;
    console.log("  config: the stack's settings           " + ms(s) + "  (" + calls() + " git processes)");
    let before = calls(); s = t(); require("./lib/version/version").checkoutForMode("snapshot", { source: parsed.source, mainBranch: parsed.mainBranch });
    console.log("  git: the checkout's version            " + ms(s) + "  (" + (calls() - before) + " git processes)");
    before = calls(); s = t(); const build = require("./lib/deb/build"); build.workingTreeId(parsed.source);
    for (const dir of ["debian", "docker/ralph", "docker/deb-builder"]) build.directoryDigest(dir);
    console.log("  hashing: tree id and recipes           " + ms(s) + "  (" + (calls() - before) + " git processes)");
  `;
  console.log("the program's start (a fresh process, tsx's loader):");
  execFileSync(process.execPath, ["--require", "tsx/cjs", "-e", probe], {
    cwd: PROJECT_DIR,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    stdio: "inherit",
  });
}

/** One step's start-up: the CLI started for a step whose work is next to nothing (stage a tiny context). */
function stepStartUp(runs: number): void {
  const recipe = tempDir();
  writeFileSync(join(recipe, "Dockerfile"), "FROM scratch\n");
  const env = {
    ...process.env,
    RALPH_IMAGE_STAGE: JSON.stringify({ recipeDir: recipe, recipeDigest: "-", contextDir: join(tempDir(), "c") }),
  };
  const time = (file: string, args: string[]) =>
    Array.from({ length: runs }, () => {
      const start = process.hrtime.bigint();
      execFileSync(file, args, { cwd: PROJECT_DIR, env, stdio: "ignore" });
      return seconds(start);
    });
  const tsx = require.resolve("tsx/cjs", { paths: [PROJECT_DIR] });
  const direct = time(process.execPath, ["--require", tsx, "cli/main.ts", "image", "stage"]);
  const npm = time("npm", ["run", "--silent", "cli", "--", "image", "stage"]);
  console.log(`step start-up, as a step runs it (node + tsx/cjs)   ${median(direct).toFixed(2)} s (${spread(direct)})`);
  console.log(`step start-up, npm run --silent cli (before)        ${median(npm).toFixed(2)} s (${spread(npm)})`);
}

async function main() {
  const pairs = Number(process.argv[process.argv.indexOf("--pairs") + 1]) || 5;
  useContainerEngine();
  const project = engineProject();
  const repo = ralphFixtureRepo();
  const stack = await project.stack("snapshot", debOnlyConfig(repo.dir));
  await timed("first up (deb build, gate, aptly)", () => stack.up());
  const empty = emptyProgram();
  pulumi(project, empty, ["stack", "select", "--create", "bench"]);
  pulumi(project, empty, ["up", "--yes", "--stack", "bench"]);

  console.log(
    `\n${pairs} pairs                                  this program            empty program           ratio`,
  );
  const up = (dir: string, name: string) => () => pulumi(project, dir, ["up", "--yes", "--stack", name]);
  const preview = (dir: string, name: string) => () =>
    pulumi(project, dir, ["preview", "--expect-no-changes", "--stack", name]);
  paired("no-op pulumi up", pairs, up(project.dir, "snapshot"), up(empty, "bench"));
  paired("pulumi preview --expect-no-changes", pairs, preview(project.dir, "snapshot"), preview(empty, "bench"));
  console.log("");
  breakdown(repo.dir);
  stepStartUp(pairs);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(removeTempDirs);
