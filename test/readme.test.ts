/**
 * Every command the README shows is covered, and this file says how (COVERAGE): the cheap `pulumi
 * config set` examples run here, on the real engine; the others by the test that runs them (itself or
 * through the program), by CI, or they are the program's own advice that a test checks it gives; the
 * few nothing here runs say why. A command added to the README without an entry fails here.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../lib/config";
import { rawConfig } from "../cli/stackConfig";
import { PROJECT_DIR } from "./support/containers";
import { engineProject } from "./support/engine";
import { removeTempDirs } from "./support/gitRepo";

afterAll(removeTempDirs);

const README = readFileSync(join(PROJECT_DIR, "README.md"), "utf8");
const SCRIPTS = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")).scripts as Record<string, string>;

/** Shell lines of the code blocks (`$ ` lines of output blocks), split at `&&`, and inline commands. */
function readmeCommands(): string[] {
  const commands = new Set<string>();
  for (const [, lang, body] of README.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    for (const line of body.replace(/\\\n\s*/g, " ").split("\n")) {
      const shell = lang === "sh" ? line : line.startsWith("$ ") ? line.slice(2) : "";
      const command = shell.replace(/\s+#\s.*$/, "").trim();
      if (command && !command.startsWith("#")) command.split("&&").forEach((part) => commands.add(part.trim()));
    }
  }
  for (const [, inline] of README.matchAll(/`((?:npm|npx|pulumi|git|docker) [^`]+)`/g)) commands.add(inline.trim());
  return [...commands];
}

/**
 * How each kind of command is covered, said as it is:
 * - `test`: that test file runs it (`runs` is the invocation in it); with `via`, the test runs the
 *   program, and the program runs the command (`via.runs` in `via.file`);
 * - `ci`: .ci/run runs it;
 * - `printed`: the program tells the user to run it, and that test checks it says so;
 * - `notRun`: nothing here runs it, for the reason given.
 */
type Coverage = { command: RegExp } & (
  | { test: string; runs: string; via?: { file: string; runs: string } }
  | { ci: ".ci/run"; runs: string }
  | { printed: string; runs: string }
  | { notRun: string }
);

const COVERAGE: readonly Coverage[] = [
  { command: /^npm ci$/, ci: ".ci/run", runs: "npm ci" },
  // What workflows holding credentials run; the workflow test checks each of them does.
  { command: /^npm ci --ignore-scripts$/, test: "test/workflows.test.ts", runs: "npm ci --ignore-scripts" },
  { command: /^npm test$/, ci: ".ci/run", runs: "npm test" },
  { command: /^npm run engine\b/, ci: ".ci/run", runs: "npm run --silent engine" },
  { command: /^npm run (--silent )?test:report$/, ci: ".ci/run", runs: "npm run --silent test:report" },
  { command: /^npm run doctor\b/, test: "test/cli/doctor.test.ts", runs: '"run", "--silent", "doctor"' },
  {
    command: /^npm run verify\b/,
    test: "test/index.engine.test.ts",
    runs: '"run", "--silent", "verify", "--", "20241124.1"',
  },
  {
    command: /^npm run release -- (snapshot|<)/,
    test: "test/cli/release.engine.test.ts",
    runs: '"release", "--", "snapshot", "up"',
  },
  {
    command: /^npm run release -- release up --yes( --refresh)?$/,
    notRun:
      "publish.yml's command on a GitHub release; test/workflows.test.ts checks the workflow runs it, and test/index.engine.test.ts runs the release stack's up (with refresh too)",
  },
  {
    command: /^npm run release -- release refresh --preview-only$/,
    test: "test/index.engine.test.ts",
    runs: '"release", "--", "release", "refresh", "--preview-only"',
  },
  { command: /^npm run release$/, test: "test/cli/release.test.ts", runs: '"run", "--silent", "release"' },
  { command: /^npm run up$/, test: "test/cli/stack.engine.test.ts", runs: 'npmRun(project.dir, env, "up")' },
  {
    command: /^npm run up:release$/,
    test: "test/cli/stack.engine.test.ts",
    runs: 'npmRun(project.dir, env, "up:release")',
  },
  { command: /^npm run plan\b/, test: "test/cli/plan.test.ts", runs: '"run", "--silent", "plan"' },
  { command: /^npm run --silent cli -- (version|…)/, test: "test/cli/main.test.ts", runs: '"run", "--silent", "cli"' },
  {
    command: /^npm run --silent cli -- deb build$/,
    test: "test/index.engine.test.ts",
    runs: "stack.up(",
    via: { file: "components/DebPackage.ts", runs: "deb build" },
  },
  {
    command: /^npm run release-new-version$/,
    test: "test/lib/version/releaseTag.test.ts",
    runs: '"release-new-version"',
  },
  {
    command: /^npm run readme$/,
    notRun: "it rewrites README.md; test/lib/config/config.test.ts checks the README holds the table it writes",
  },
  {
    command: /^npm run lint$/,
    notRun: "npm test begins with the same two commands (tsc --noEmit && prettier --check .)",
  },
  {
    command: /^npm run format$/,
    notRun: "it rewrites files; npm test's prettier --check fails on what it would change",
  },
  {
    command: /^npm install$/,
    test: "test/lib/deb/build.test.ts",
    runs: "npm install without a lockfile",
    via: { file: "debian/build-frontend", runs: "npm install" },
  },
  {
    command: /^npx tsx scripts\/bench-[\w-]+\.ts$/,
    notRun: "benchmarks print figures and take minutes: run by hand; npm test type-checks them (tsconfig.json)",
  },
  {
    command: /^npx vitest run test\/cli\/plan\.test\.ts -u$/,
    notRun: "it rewrites the golden files, for review; npm test compares against them",
  },
  {
    command: /^pulumi (up|preview|destroy)\b/,
    test: "test/index.engine.test.ts",
    runs: ".destroy(",
    via: { file: "test/support/engine.ts", runs: "LocalWorkspace" },
  },
  {
    command: /^pulumi refresh$/,
    test: "test/index.engine.test.ts",
    runs: "stack.refresh(",
    via: { file: "test/support/engine.ts", runs: "LocalWorkspace" },
  },
  {
    command: /^pulumi stack export$/,
    test: "test/index.engine.test.ts",
    runs: "exportState(",
    via: { file: "test/support/engine.ts", runs: '"stack", "export"' },
  },
  {
    command: /^pulumi config set( --secret| --stack <stack> <key> <value>)?$/,
    test: "test/cli/release.test.ts",
    runs: "setConfig(",
    via: { file: "cli/automation.ts", runs: '"config", "set", "--secret"' },
  },
  {
    command: /^git clone https:\/\/github\.com\/allegro\/ralph \.\.\/ralph$/,
    test: "test/cli/release.engine.test.ts",
    runs: '"clone", "--quiet", ralphFixtureRepo().dir, join(project.dir, "..", "ralph")',
  },
  {
    command: /^git -C \.\.\/ralph push origin <tag>$/,
    printed: "test/lib/version/releaseTag.test.ts",
    runs: "git -C ${repo.dir} push origin",
  },
  {
    command: /^git archive$/,
    test: "test/lib/deb/build.test.ts",
    runs: "buildDeb(",
    via: { file: "lib/deb/build.ts", runs: '"archive"' },
  },
  {
    command: /^git fetch --unshallow --tags$/,
    printed: "test/lib/version/version.test.ts",
    runs: "git fetch --unshallow --tags",
  },
  {
    command: /^docker run -d -p 127\.0\.0\.1:5000:5000 registry:2$/,
    notRun: "third-party set-up a reader may use instead of .ci/containers.sh's docker-registry",
  },
  {
    command: /^git clone https:\/\/github\.com\/allegro\/inkpy$/,
    notRun: "no network here: test/fixtures/inkpy stands in for inkpy's checkout",
  },
  {
    command: /^docker ps --all --filter label=ralph-release=step$/,
    test: "test/lib/runner.test.ts",
    runs: '"ps", "--all", "--filter", "label=ralph-release=step"',
  },
  { command: /^docker context use build-host$/, test: "test/cli/doctor.test.ts", runs: 'context("use", "build-host")' },
  {
    command: /^export (DOCKER_HOST|PATH)=/,
    notRun: "a shell's set-up; the engine tests put .tools/bin first on PATH themselves (test/support/engine.ts)",
  },
];

/** The README's `pulumi config set` examples of a stack's settings (not placeholders). */
const configExamples = () => readmeCommands().filter((c) => /^pulumi config set (?!--secret$)(?!--stack <)\S/.test(c));

describe("README", () => {
  it("every command it shows is run by a test or CI, printed by the program under a test, or listed with why not", () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThan(20);
    const uncovered = commands.filter(
      (command) => !configExamples().includes(command) && !COVERAGE.some((entry) => entry.command.test(command)),
    );
    expect(uncovered, "README commands nothing covers: add the test that runs it, and its line to COVERAGE").toEqual(
      [],
    );
    const contains = (file: string, text: string) =>
      expect(readFileSync(join(PROJECT_DIR, file), "utf8"), `${file} has ${text}`).toContain(text);
    for (const entry of COVERAGE) {
      if ("notRun" in entry) continue;
      const file = "test" in entry ? entry.test : "printed" in entry ? entry.printed : entry.ci;
      if (!("ci" in entry)) expect(file, `${entry.command} is covered by a test file`).toMatch(/^test\/.*\.test\.ts$/);
      contains(file, entry.runs);
      if ("via" in entry && entry.via) contains(entry.via.file, entry.via.runs);
    }
    // Every entry still matches something the README shows: none outlives its command.
    for (const entry of COVERAGE) {
      expect(
        commands.some((command) => entry.command.test(command)),
        `${entry.command} matches no README command`,
      ).toBe(true);
    }
  });

  it("names only npm scripts that exist", () => {
    const scripts = readmeCommands().flatMap((c) => /^npm run (?:--silent )?([\w:-]+)/.exec(c)?.[1] ?? []);
    expect(scripts.length).toBeGreaterThan(5);
    expect(scripts.filter((script) => !(script in SCRIPTS))).toEqual([]);
  });

  it("its pulumi config examples run on the real engine and give settings the program accepts", async () => {
    const examples = configExamples();
    expect(examples.length).toBeGreaterThan(4);
    const project = engineProject();
    const run = (args: string[]) =>
      execFileSync("pulumi", args, { cwd: project.dir, env: { ...process.env, ...project.env }, encoding: "utf8" });
    run(["stack", "init", "snapshot"]);
    for (const example of examples) {
      // The README's words, as a shell would split them (quoted values stay whole).
      const words = [...example.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
      const [, config, set, ...rest] = words;
      run([config, set, ...(words.includes("--stack") ? [] : ["--stack", "snapshot"]), ...rest]);
    }
    const values = JSON.parse(run(["config", "--json", "--stack", "snapshot"])) as Record<string, { value: string }>;
    const settings = Object.fromEntries(Object.entries(values).map(([key, v]) => [key.split(":")[1], v.value]));
    expect(settings).toMatchObject({ distribution: "debian/bullseye", pipArgs: "--use-deprecated=legacy-resolver" });
    // Every example names a real key with a valid value: parsing finds nothing wrong with them, but
    // that a placeholder path (/path/to/…) does not exist on this machine.
    const problems = (() => {
      try {
        parseConfig(rawConfig("snapshot", project.dir, { values: settings, secretKeys: new Set() }));
        return [];
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.problems.filter((p) => !(p.problem.startsWith("/path/to/") && /does not exist/.test(p.problem)));
      }
    })();
    const mine = problems.filter((p) => Object.keys(settings).some((name) => p.key === `ralph-release:${name}`));
    expect(mine).toEqual([]);
  });
});
