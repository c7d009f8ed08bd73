import * as pulumi from "@pulumi/pulumi";

export interface PipelineStepArgs {
  /** The shell command to run, e.g. `npm run --silent cli -- deb build`. Its stdout is the step's result. */
  readonly create: pulumi.Input<string>;
  /** Directory it runs in (this project's, for the CLI). */
  readonly dir: pulumi.Input<string>;
  /** Extra environment: the step's JSON request. */
  readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Any change here runs the step again as a replacement. */
  readonly triggers?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Environment the command needs that is no reason to run it again (a password, what the stack
   * recorded last time). Stored as a secret; never compared.
   */
  readonly runtimeEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

interface StepInputs {
  create: string;
  dir: string;
  environment?: Record<string, string>;
  triggers?: string[];
  runtimeEnvironment?: Record<string, string>;
}

interface StepOutputs extends StepInputs {
  stdout: string;
}

/**
 * Runs the command, streaming its stderr to the engine (progress shows under `pulumi up`) and keeping
 * its stdout. Ctrl-C needs nothing here: the engine lets a running step finish and records it, then
 * stops, so a cancelled up never leaves a step half-recorded.
 */
async function runStep(inputs: StepInputs): Promise<string> {
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", inputs.create], {
      cwd: inputs.dir,
      env: { ...process.env, ...inputs.environment, ...inputs.runtimeEnvironment },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderrTail: string[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderrTail.push(chunk.toString());
      if (stderrTail.length > 40) stderrTail.shift();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(stdout).toString());
      const how = signal ? `was stopped by ${signal}` : `exited with ${code}`;
      reject(new Error(`\`${inputs.create}\` ${how}:\n${stderrTail.join("").trimEnd()}`));
    });
  });
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The semantics of @pulumi/command's local Command, for the one kind of command this pipeline runs:
 * triggers replace, any other change runs it again, delete leaves its artifacts alone.
 */
export const pipelineStepProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: StepOutputs, news: StepInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = same(olds.triggers, news.triggers) ? [] : ["triggers"];
    const changed = (["create", "dir", "environment"] as const).some((key) => !same(olds[key], news[key]));
    return { changes: replaces.length > 0 || changed, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: StepInputs): Promise<pulumi.dynamic.CreateResult<StepOutputs>> {
    const stdout = await runStep(inputs);
    const { randomUUID } = require("node:crypto") as typeof import("node:crypto");
    return { id: randomUUID(), outs: { ...inputs, stdout } };
  },

  async update(_id: string, _olds: StepOutputs, news: StepInputs): Promise<pulumi.dynamic.UpdateResult<StepOutputs>> {
    return { outs: { ...news, stdout: await runStep(news) } };
  },

  async delete(): Promise<void> {
    // A step's results (a built deb, a publication) outlive it: destroy never removes artifacts.
  },
};

/**
 * One step of the pipeline that runs on this machine: this project's CLI with a JSON request. A
 * dynamic resource, so a step needs nothing but the Pulumi CLI and Node: no provider plugin to fetch.
 */
export class PipelineStep extends pulumi.dynamic.Resource {
  /** What the command printed on stdout (the step's JSON result). */
  declare readonly stdout: pulumi.Output<string>;

  constructor(name: string, args: PipelineStepArgs, opts?: pulumi.CustomResourceOptions) {
    const runtimeEnvironment = args.runtimeEnvironment && pulumi.secret(args.runtimeEnvironment);
    super(
      pipelineStepProvider,
      name,
      { ...args, runtimeEnvironment, stdout: undefined },
      { ...opts, additionalSecretOutputs: ["runtimeEnvironment", ...(opts?.additionalSecretOutputs ?? [])] },
      "pipeline",
      "PipelineStep",
    );
  }
}
