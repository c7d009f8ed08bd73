/**
 * Evaluation at the floor: the real engine on this project beside an empty program on the same engine.
 * Prints figures; asserts nothing.
 *
 *   npx tsx scripts/bench-engine.ts [--pairs N]     (after npm run engine; needs .ci/containers.sh's engine)
 *
 * - no-op `pulumi up` and `pulumi preview --expect-no-changes` of a deb-only snapshot stack (host
 *   builder, aptly) of a Ralph-shaped fixture, of an empty TypeScript program as Pulumi runs one at
 *   its fastest (ts-node, transpile only, this project's tsconfig), and of an empty JavaScript
 *   program: N rounds, medians, spread (min–max), the ratio to the TypeScript one;
 * - the program's own start, part by part, in a fresh process: module load, config, git (with the
 *   number of git processes), hashing, the steps' provider bundle; the steps' provider host's start;
 * - one step's start-up: this project's CLI as a step runs it, and as `npm run --silent cli` did.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
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

/**
 * The empty programs beside this one, with this project's tsconfig.json and node_modules:
 * - TypeScript, as Pulumi runs one at its fastest (ts-node, transpile only): the floor;
 * - JavaScript (no compiler at all): the engine's own floor, for scale.
 */
function emptyProgram(language: "typescript" | "javascript"): string {
  const dir = tempDir(`ralph-release-empty-${language}-`);
  const typescript = language === "typescript";
  writeFileSync(
    join(dir, "Pulumi.yaml"),
    `name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: ${typescript}\n    packagemanager: npm\n`,
  );
  const tsconfig = JSON.parse(readFileSync(join(PROJECT_DIR, "tsconfig.json"), "utf8"));
  tsconfig.compilerOptions.noCheck = true;
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-empty", private: true, type: "commonjs" }));
  writeFileSync(
    join(dir, typescript ? "index.ts" : "index.js"),
    typescript ? "export {};\n" : "module.exports = {};\n",
  );
  symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function pulumi(project: EngineProject, cwd: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync("pulumi", args, { cwd, env: { ...process.env, ...project.env }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`pulumi ${args.join(" ")} in ${cwd}: ${result.stdout}${result.stderr}`);
  return seconds(start);
}

/**
 * N rounds of this program, then the empty TypeScript program, then the empty JavaScript one, so
 * that a slow minute of the machine falls on all three. The ratio is to the TypeScript one.
 */
function rounds(label: string, n: number, program: () => number, typescript: () => number, javascript: () => number) {
  const times = { program: [] as number[], typescript: [] as number[], javascript: [] as number[] };
  for (let i = 0; i < n; i++) {
    times.program.push(program());
    times.typescript.push(typescript());
    times.javascript.push(javascript());
  }
  const shown = (values: number[]) => `${median(values).toFixed(2).padStart(6)} s (${spread(values)})`;
  const ratio = times.program.map((t, i) => t / times.typescript[i]);
  console.log(
    `${label.padEnd(36)} ${shown(times.program)}  ${shown(times.typescript)}  ` +
      `${(median(times.program) / median(times.typescript)).toFixed(2)}× (${spread(ratio)})  ${shown(times.javascript)}`,
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
    // An older checkout (the "before" figures) imports the whole SDK and has no provider bundle.
    const older = !fs.existsSync("components/sdk.ts");
    let s = t(); require(older ? "@pulumi/pulumi" : "./components/sdk"); console.log("  module load: the SDK's parts it uses    " + ms(s));
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
    if (!older) s = t(), require("./lib/steps/providerBundle").providerBundle(process.cwd(), { path: "lib/steps/provider.ts", exportName: "pipelineStepProvider" });
    if (!older) console.log("  the steps' provider, bundled           " + ms(s));
  `;
  console.log("the program's start (a fresh process, tsx's loader):");
  execFileSync(process.execPath, ["--require", "tsx/cjs", "-e", probe], {
    cwd: PROJECT_DIR,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    stdio: "inherit",
  });
}

/**
 * The steps' provider host, started as the engine starts it (once an evaluation): until it listens.
 * The empty programs never start one.
 */
async function providerHostStart(runs: number): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      // Its engine address is never dialled before the engine's first call.
      const host = spawn("pulumi-resource-pulumi-nodejs", ["127.0.0.1:1"], {
        cwd: PROJECT_DIR,
        stdio: ["ignore", "pipe", "inherit"],
      });
      host.on("error", reject);
      host.stdout.once("data", () => {
        times.push(seconds(start));
        host.kill();
        resolve();
      });
    });
  }
  console.log(`the steps' provider host, until it listens           ${median(times).toFixed(2)} s (${spread(times)})`);
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
  const empty = { typescript: emptyProgram("typescript"), javascript: emptyProgram("javascript") };
  for (const dir of Object.values(empty)) {
    pulumi(project, dir, ["stack", "select", "--create", "bench"]);
    pulumi(project, dir, ["up", "--yes", "--stack", "bench"]);
  }

  console.log(
    `\n${pairs} rounds                            this program          empty TypeScript      ratio` +
      "               empty JavaScript",
  );
  const up = (dir: string, name: string) => () => pulumi(project, dir, ["up", "--yes", "--stack", name]);
  const preview = (dir: string, name: string) => () =>
    pulumi(project, dir, ["preview", "--expect-no-changes", "--stack", name]);
  const each = (run: (dir: string, name: string) => () => number) =>
    [run(project.dir, "snapshot"), run(empty.typescript, "bench"), run(empty.javascript, "bench")] as const;
  rounds("no-op pulumi up", pairs, ...each(up));
  rounds("pulumi preview --expect-no-changes", pairs, ...each(preview));
  console.log("");
  breakdown(repo.dir);
  await providerHostStart(pairs);
  stepStartUp(pairs);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(removeTempDirs);
