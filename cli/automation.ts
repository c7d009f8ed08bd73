/**
 * The release CLI's workspace on Pulumi's Automation API: a LocalWorkspace on this project, driving
 * the user's `pulumi` CLI. Everything it decides lives in cli/releaseCli.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { LocalWorkspace, type OpMap, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { PROJECT } from "../lib/config";
import { UserError } from "../lib/errors";
import type { OperationResult, ReleaseWorkspace, RunOptions } from "./releaseCli";

export const PROJECT_DIR = join(__dirname, "..");

/** Pulumi.yaml's backend: state in a directory of this project, made on first use. */
export const DEFAULT_STATE_DIR = join(PROJECT_DIR, ".pulumi-state");

/**
 * Environment for the Pulumi CLI for a stack of `mode` (a branch's snapshot stack runs as a snapshot):
 * the project's local backend unless PULUMI_BACKEND_URL is set, and for a local snapshot stack that
 * holds no secret (`secrets`: the keys it holds or is about to) an empty passphrase when none is
 * given. A release stack, or a snapshot stack with a secret, needs a real one: with the empty
 * passphrase anyone who reads the stack file and its state could decrypt what they hold.
 */
export function pulumiEnvironment(
  mode: string,
  env: NodeJS.ProcessEnv,
  secrets: readonly string[] = [],
): Record<string, string> {
  const extra: Record<string, string> = {};
  const backend = env.PULUMI_BACKEND_URL;
  if (!backend) mkdirSync(DEFAULT_STATE_DIR, { recursive: true });
  const local = !backend || backend.startsWith("file://");
  // An empty passphrase (`export PULUMI_CONFIG_PASSPHRASE=""`, an unset CI secret) is no passphrase.
  const hasPassphrase = Boolean(env.PULUMI_CONFIG_PASSPHRASE) || nonEmptyFile(env.PULUMI_CONFIG_PASSPHRASE_FILE);
  if (local && !hasPassphrase) {
    if (mode !== "snapshot") {
      throw new UserError(
        `the ${mode} stack's secrets are encrypted with a passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), or use a backend with its own secrets (PULUMI_BACKEND_URL).`,
      );
    }
    if (secrets.length > 0) {
      throw new UserError(
        `the snapshot stack would hold ${secrets.join(", ")} as a secret, and a local snapshot stack's passphrase is empty: anyone who reads its stack file and state could decrypt it. ` +
          "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to a real one (a stack made with the empty one takes it after `pulumi stack change-secrets-provider passphrase`), or leave the secret out.",
      );
    }
    extra.PULUMI_CONFIG_PASSPHRASE = "";
  }
  return extra;
}

function nonEmptyFile(path: string | undefined): boolean {
  try {
    return path !== undefined && path !== "" && statSync(path).size > 0;
  } catch {
    return false;
  }
}

const changesOf = (map: OpMap | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(map ?? {}).filter((entry): entry is [string, number] => entry[1] !== undefined));

export class AutomationWorkspace implements ReleaseWorkspace {
  private stack?: Stack;
  private mode = "snapshot";
  private secrets: readonly string[] = [];
  private pulumiCommand?: PulumiCommand;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async selectStack(stackName: string, mode: string = stackName, secrets: readonly string[] = []): Promise<void> {
    this.mode = mode;
    this.secrets = secrets;
    this.stack = await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: PROJECT_DIR },
      { pulumiCommand: await this.cli(), envVars: pulumiEnvironment(mode, this.env, secrets) },
    );
  }

  async stackNames(mode: string): Promise<string[]> {
    const workspace = await LocalWorkspace.create({
      workDir: PROJECT_DIR,
      pulumiCommand: await this.cli(),
      envVars: pulumiEnvironment(mode, this.env),
    });
    return (await workspace.listStacks()).map((stack) => stack.name);
  }

  private async cli(): Promise<PulumiCommand> {
    try {
      this.pulumiCommand ??= await PulumiCommand.get({ skipVersionCheck: true });
      return this.pulumiCommand;
    } catch {
      throw new UserError(
        "the pulumi CLI was not found on PATH. Install it " +
          "(https://www.pulumi.com/docs/install/), or build it from Go modules with `npm run engine` and " +
          'put it on PATH (`export PATH="$PWD/.tools/bin:$PATH"`); `npm run plan` works without it.',
      );
    }
  }

  /**
   * Plain values through the Automation API; secrets on the CLI's stdin, one at a time: the API's
   * `config set-all` would put their values on a command line, visible to every user of the machine.
   */
  async setConfig(config: Record<string, { value: string; secret: boolean }>): Promise<void> {
    const stack = this.required();
    const entries = Object.entries(config);
    const plain = entries.filter(([, v]) => !v.secret).map(([key, value]) => [`${PROJECT}:${key}`, value] as const);
    if (plain.length > 0) await stack.setAllConfig(Object.fromEntries(plain));
    for (const [key, { value }] of entries.filter(([, v]) => v.secret)) {
      const args = ["config", "set", "--secret", "--stack", stack.name, `${PROJECT}:${key}`, "--non-interactive"];
      const result = spawnSync(this.command().command, args, {
        cwd: PROJECT_DIR,
        input: value,
        encoding: "utf8",
        env: { ...this.env, ...pulumiEnvironment(this.mode, this.env, this.secrets) },
      });
      if (result.status !== 0) {
        throw new UserError(
          `pulumi config set --secret ${key} failed: ${(result.stderr || String(result.error)).trim()}`,
        );
      }
    }
  }

  async run(operation: string, onEvent: (event: object) => void, options: RunOptions = {}): Promise<OperationResult> {
    const stack = this.required();
    switch (operation) {
      case "preview": {
        const result = await stack.preview({ onEvent, diff: true, refresh: options.refresh });
        return { outputs: {}, changes: changesOf(result.changeSummary) };
      }
      case "up": {
        const result = await stack.up({ onEvent, refresh: options.refresh });
        return { outputs: result.outputs, changes: changesOf(result.summary.resourceChanges) };
      }
      case "destroy": {
        const result = await stack.destroy({ onEvent });
        return { outputs: {}, changes: changesOf(result.summary.resourceChanges) };
      }
      case "refresh": {
        if (options.previewOnly) {
          const result = await stack.previewRefresh({ onEvent });
          return { outputs: await stack.outputs(), changes: changesOf(result.changeSummary) };
        }
        const result = await stack.refresh({ onEvent });
        return { outputs: await stack.outputs(), changes: changesOf(result.summary.resourceChanges) };
      }
      default:
        throw new UserError(`unknown operation ${operation}`);
    }
  }

  private command(): PulumiCommand {
    if (!this.pulumiCommand) throw new Error("selectStack first");
    return this.pulumiCommand;
  }

  private required(): Stack {
    if (!this.stack) throw new Error("selectStack first");
    return this.stack;
  }
}
