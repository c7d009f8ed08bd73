/**
 * The real Pulumi engine for tests: the CLI and language host `npm run engine` builds into .tools/bin,
 * driven through the Automation API on a throw-away copy of this project (so stack files and build/
 * never touch the working tree), with a file backend and PULUMI_HOME in a temp directory. Nothing is
 * downloaded: plugin acquisition and update checks are off.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { BASE_IMAGE, PROJECT_DIR, requireLane } from "./containers";
import { tempDir } from "./gitRepo";

export const ENGINE_DIR = join(PROJECT_DIR, ".tools");
const ENGINE_BIN = join(ENGINE_DIR, "bin");

/** What the program needs of the project: its code, recipes and dependencies. */
const PROJECT_FILES = [
  "Pulumi.yaml",
  "package.json",
  "tsconfig.json",
  "entry.js",
  "index.ts",
  "components",
  "lib",
  "cli",
  "debian",
  "docker",
];

export function requireEngine(): void {
  requireLane("the Pulumi engine");
  for (const binary of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) {
    if (!existsSync(join(ENGINE_BIN, binary))) {
      throw new Error(`${join(ENGINE_BIN, binary)} is missing: run \`npm run engine\` first (it builds the engine).`);
    }
  }
}

/**
 * A newcomer's environment for the project copy: the engine on PATH and the container engine, but no
 * backend URL or passphrase (Pulumi.yaml's local state, the snapshot stack's empty passphrase).
 */
export function newcomerEnvironment(project: EngineProject): Record<string, string> {
  const { PATH, HOME, DOCKER_HOST, PULUMI_HOME, PULUMI_SKIP_UPDATE_CHECK } = { ...process.env, ...project.env };
  const env = { PATH, HOME, DOCKER_HOST, PULUMI_HOME, PULUMI_SKIP_UPDATE_CHECK };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

export interface EngineProject {
  /** The project copy the engine runs. */
  readonly dir: string;
  /** The file backend's directory. */
  readonly stateDir: string;
  /** Environment of every pulumi process: PATH with the engine first, backend, home, passphrase. */
  readonly env: Record<string, string>;
  /** `pulumi stack export` as a user runs it: secrets stay encrypted (the Automation API's exportStack decrypts them). */
  exportState(stackName: string): StackExport;
  /** Selects (or creates) `stackName` with `config` (`ralph-release:` keys); `secrets` set as secrets. */
  stack(stackName: string, config: Record<string, string>, secrets?: Record<string, string>): Promise<Stack>;
}

export interface StackExport {
  /** The export as printed. */
  readonly text: string;
  readonly deployment: { resources?: unknown[]; pending_operations?: unknown[] };
}

export const PASSPHRASE = "engine-test-passphrase";

/**
 * A project copy with a backend of its own. `sameMachineAs` reuses another's copy (its build/
 * directory) with a fresh, empty backend: a state lost on the machine that made the artifacts.
 * `sameBackendAs` is another machine on the same backend: a fresh copy at another path, an empty
 * build/, a PULUMI_HOME of its own, the other's state.
 */
export function engineProject(
  options: { sameMachineAs?: EngineProject; sameBackendAs?: EngineProject } = {},
): EngineProject {
  requireEngine();
  const root = tempDir("ralph-release-engine-");
  const dir = options.sameMachineAs?.dir ?? join(root, "project");
  if (!options.sameMachineAs) {
    for (const file of PROJECT_FILES) cpSync(join(PROJECT_DIR, file), join(dir, file), { recursive: true });
    symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"));
  }
  const stateDir = options.sameBackendAs?.stateDir ?? join(root, "state");
  const env: Record<string, string> = {
    PATH: `${ENGINE_BIN}:${process.env.PATH}`,
    PULUMI_HOME: join(root, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  if (process.env.DOCKER_HOST) env.DOCKER_HOST = process.env.DOCKER_HOST;
  mkdirSync(stateDir, { recursive: true });

  return {
    dir,
    stateDir,
    env,
    exportState(stackName) {
      const exported = execFileSync("pulumi", ["stack", "export", "--stack", stackName], {
        cwd: dir,
        env: { ...process.env, ...env },
        encoding: "utf8",
      });
      return { text: exported, deployment: JSON.parse(exported).deployment };
    },
    async stack(stackName, config, secrets = {}) {
      const pulumiCommand = await PulumiCommand.get({ root: ENGINE_DIR, skipVersionCheck: true });
      const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, workDir: dir },
        { pulumiCommand, envVars: env },
      );
      const values = {
        ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`ralph-release:${k}`, { value: v }])),
        ...Object.fromEntries(
          Object.entries(secrets).map(([k, v]) => [`ralph-release:${k}`, { value: v, secret: true }]),
        ),
      };
      await stack.setAllConfig(values);
      return stack;
    },
  };
}

/**
 * A deb-only stack (`images: false`) built on this machine (`builder: host`, debian/bookworm) and
 * published to a fresh aptly repository: what runs on the engine and dynamic providers alone.
 */
export function debOnlyConfig(source: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    source,
    images: "false",
    builder: "host",
    distribution: "debian/bookworm",
    baseImage: BASE_IMAGE,
    aptlyRoot: join(tempDir(), "aptly"),
    debTargets: "aptly",
    ...extra,
  };
}
