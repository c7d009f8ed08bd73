/**
 * Every command the README shows is run somewhere: the cheap `pulumi config set` examples here, on
 * the real engine; every other one by the test (or CI step) named for it below, which must still
 * contain the invocation. A command added to the README without a test that runs it fails here.
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

/** Where each kind of command is run: the file, and the text in it that runs it. */
const RUN_BY: readonly { command: RegExp; file: string; runs: string }[] = [
  { command: /^npm ci$/, file: ".ci/run", runs: "npm ci" },
  { command: /^npm test$/, file: ".ci/run", runs: "npm test" },
  { command: /^npm run engine\b/, file: ".ci/run", runs: "npm run --silent engine" },
  { command: /^npm run doctor\b/, file: "test/cli/doctor.test.ts", runs: '"run", "--silent", "doctor"' },
  {
    command: /^npm run verify\b/,
    file: "test/index.engine.test.ts",
    runs: '"run", "--silent", "verify", "--", "20241124.1"',
  },
  {
    command: /^npm run release -- (snapshot|<)/,
    file: "test/cli/release.engine.test.ts",
    runs: '"release", "--", "snapshot", "up"',
  },
  {
    command: /^npm run release -- release up --yes$/,
    file: "test/workflows.test.ts",
    runs: "npm run --silent release -- release up --yes",
  },
  { command: /^npm run release$/, file: "test/cli/release.test.ts", runs: '"run", "--silent", "release"' },
  { command: /^npm run up$/, file: "test/cli/stack.engine.test.ts", runs: 'npmRun(project.dir, env, "up")' },
  {
    command: /^npm run up:release$/,
    file: "test/cli/stack.engine.test.ts",
    runs: 'npmRun(project.dir, env, "up:release")',
  },
  { command: /^npm run plan\b/, file: "test/cli/plan.test.ts", runs: '"run", "--silent", "plan"' },
  { command: /^npm run --silent cli -- (version|…)/, file: "test/cli/main.test.ts", runs: '"run", "--silent", "cli"' },
  { command: /^npm run --silent cli -- deb build$/, file: "test/components/DebPackage.test.ts", runs: "deb build" },
  {
    command: /^npm run release-new-version$/,
    file: "test/lib/version/releaseTag.test.ts",
    runs: '"release-new-version"',
  },
  {
    command: /^npm run readme$/,
    file: "test/lib/config/config.test.ts",
    runs: "expect(readme).toContain(configTable())",
  },
  {
    command: /^npm run (format|lint)$/,
    file: "package.json",
    runs: '"test": "tsc --noEmit && prettier --check . && vitest run"',
  },
  { command: /^npm install$/, file: "debian/build-frontend", runs: "npm install" },
  // Benchmarks print figures and take minutes: run by hand; npm test type-checks them.
  { command: /^npx tsx scripts\/bench-[\w-]+\.ts$/, file: "tsconfig.json", runs: '"scripts/**/*.ts"' },
  {
    command: /^npx vitest run test\/cli\/plan\.test\.ts -u$/,
    file: "test/cli/plan.test.ts",
    runs: "toMatchFileSnapshot",
  },
  { command: /^pulumi (up|preview|destroy)\b/, file: "test/index.engine.test.ts", runs: ".destroy(" },
  { command: /^pulumi stack export$/, file: "test/support/engine.ts", runs: '"stack", "export"' },
  {
    command: /^pulumi config set( --secret| --stack <stack> <key> <value>)?$/,
    file: "cli/automation.ts",
    runs: '"config", "set", "--secret"',
  },
  {
    command: /^git clone https:\/\/github\.com\/allegro\/ralph \.\.\/ralph$/,
    file: "test/cli/release.engine.test.ts",
    runs: '"clone", "--quiet", ralphFixtureRepo().dir, join(project.dir, "..", "ralph")',
  },
  {
    command: /^git -C \.\.\/ralph push origin <tag>$/,
    file: "test/lib/version/releaseTag.test.ts",
    runs: "git -C ${repo.dir} push origin",
  },
  { command: /^git archive$/, file: "lib/deb/build.ts", runs: '"archive"' },
  {
    command: /^git fetch --unshallow --tags$/,
    file: "test/lib/version/version.test.ts",
    runs: "git fetch --unshallow --tags",
  },
  // Third-party setup a reader may use instead of what .ci/containers.sh starts: documented, not ours to test.
  {
    command: /^docker run -d -p 127\.0\.0\.1:5000:5000 registry:2$/,
    file: ".ci/containers.sh",
    runs: "docker-registry",
  },
  {
    command: /^git clone https:\/\/github\.com\/allegro\/inkpy$/,
    file: "test/support/pulumi.ts",
    runs: "INKPY_CHECKOUT",
  },
  { command: /^export (DOCKER_HOST|PATH)=/, file: "test/support/engine.ts", runs: "PATH: `${ENGINE_BIN}:" },
];

/** The README's `pulumi config set` examples of a stack's settings (not placeholders). */
const configExamples = () => readmeCommands().filter((c) => /^pulumi config set (?!--secret$)(?!--stack <)\S/.test(c));

describe("README", () => {
  it("every command it shows is run by a test or CI, which still contains the invocation", () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThan(20);
    const unrun = commands.filter(
      (command) => !configExamples().includes(command) && !RUN_BY.some((entry) => entry.command.test(command)),
    );
    expect(unrun, "README commands no test runs: add the test, and its line to RUN_BY").toEqual([]);
    for (const entry of RUN_BY) {
      expect(readFileSync(join(PROJECT_DIR, entry.file), "utf8"), `${entry.file} runs ${entry.command}`).toContain(
        entry.runs,
      );
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
