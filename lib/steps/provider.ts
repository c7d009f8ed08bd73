/**
 * What serves a pipeline step in the engine's Node.js dynamic provider: run the CLI command, compare
 * a step with its state, read back what it made. Node built-ins only: this module is bundled into
 * the step's state and runs in the provider's own process (lib/steps/providerBundle).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { MachineRoots } from "./machineRoots";
import type { CreateResult, DiffResult, ReadResult, UpdateResult } from "./providerBundle";

export interface StepInputs {
  /** The command line: compared. */
  create: string;
  /** The variable that carries the request. */
  variable: string;
  request: unknown;
  triggers?: Record<string, string>;
  /** Names of the trigger fields a stack written before they were named holds as a list. */
  legacyTriggers?: string[];
  /** This run's machine: not compared. */
  machine: { roots: MachineRoots };
  runtimeEnvironment?: Record<string, string>;
}

interface StepOutputs extends StepInputs {
  stdout: string;
}

/** A step as stacks written before kinds and named triggers stored it. */
interface LegacyStepOutputs {
  create: string;
  dir: string;
  environment?: Record<string, string>;
  triggers?: string[];
  stdout: string;
}

/**
 * Runs the CLI command in this run's project directory, streaming its stderr to the engine (progress
 * shows under `pulumi up`) and keeping its stdout. Ctrl-C needs nothing here: the engine lets a
 * running step finish and records it, then stops, so a cancelled up never leaves a step half-recorded.
 */
async function runCommand(
  command: string,
  cwd: string,
  environment: Record<string, string | undefined>,
): Promise<string> {
  // The stored command stays `npm run --silent cli -- …` (the engine compares it); it runs as that
  // npm script does, node with tsx's loader on cli/main.ts, without npm's and tsx's own start-up.
  const cli = /^npm run --silent cli -- ([\w ]+)$/.exec(command);
  const [file, args] = cli
    ? [
        process.execPath,
        ["--require", require.resolve("tsx/cjs", { paths: [cwd] }), "cli/main.ts", ...cli[1].split(" ")],
      ]
    : ["/bin/sh", ["-c", command]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd,
      env: { ...process.env, ...environment },
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
      reject(new Error(`\`${command}\` ${how}:\n${stderrTail.join("").trimEnd()}`));
    });
  });
}

/** Runs the step; `previous` is what it printed last time (its own record: a push adopts its own tag). */
function runStep(inputs: StepInputs, previous?: string): Promise<string> {
  return runCommand(inputs.create, inputs.machine.roots.project, {
    ...inputs.runtimeEnvironment,
    [inputs.variable]: JSON.stringify(inputs.request),
    RALPH_MACHINE_ROOTS: JSON.stringify(inputs.machine.roots),
    RALPH_STEP_PREVIOUS: previous ?? "",
  });
}

/** JSON with every object's keys sorted: the engine hands objects back in its own key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/**
 * A refresh found what the step made changed outside the stack (its result's `drift`), or gone from
 * this machine (`missing`): run it again, with that result as its last one.
 */
function runsAgain(stdout: string | undefined): boolean {
  try {
    const result = stdout ? (JSON.parse(stdout) as { drift?: string; missing?: string }) : {};
    return result.drift !== undefined || result.missing !== undefined;
  } catch {
    return false;
  }
}

/**
 * A stack written before requests were stored from their roots compares its absolute request with
 * this run's request put back on this machine: the same step on the same machine stays the same.
 */
function legacyDiff(olds: LegacyStepOutputs, news: StepInputs): DiffResult {
  const { roots } = news.machine;
  let request = JSON.stringify(news.request ?? null);
  for (const [name, path] of Object.entries(roots)) {
    if (typeof path === "string") request = request.split(`"{${name}}`).join(JSON.stringify(path).slice(0, -1));
  }
  const before = olds.environment?.[news.variable];
  const requestChanged = before === undefined || !same(JSON.parse(before), JSON.parse(request));
  const triggersNow = (news.legacyTriggers ?? []).map((name) => news.triggers?.[name]);
  const replaces = same(olds.triggers ?? [], triggersNow) ? [] : ["triggers"];
  return { changes: replaces.length > 0 || requestChanged || olds.create !== news.create, replaces };
}

/**
 * The semantics of @pulumi/command's local Command for the one kind of command this pipeline runs,
 * plus a read: triggers replace, any other change runs it again, refresh asks the CLI whether what
 * the step made is still there, delete leaves its artifacts alone.
 */
export const pipelineStepProvider = {
  async diff(_id: string, olds: StepOutputs | LegacyStepOutputs, news: StepInputs): Promise<DiffResult> {
    if (!("request" in olds)) return legacyDiff(olds, news);
    const replaces = same(olds.triggers, news.triggers) ? [] : ["triggers"];
    // A drifted step runs again with its own last result: a snapshot's push writes its tag back, a
    // release's refuses a version tag that another build now holds.
    const changed =
      olds.create !== news.create ||
      olds.variable !== news.variable ||
      !same(olds.request, news.request) ||
      runsAgain(olds.stdout);
    return { changes: replaces.length > 0 || changed, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: StepInputs): Promise<CreateResult<StepOutputs>> {
    const stdout = await runStep(inputs);
    return { id: randomUUID(), outs: { ...inputs, stdout } };
  },

  async update(_id: string, olds: StepOutputs, news: StepInputs): Promise<UpdateResult<StepOutputs>> {
    return { outs: { ...news, stdout: await runStep(news, olds.stdout) } };
  },

  /**
   * What the step made, as it is now (`pulumi refresh`, `up --refresh`): the CLI looks (a deb in
   * build/, a local image, a registry tag). Gone reads as gone, and the next `up` makes it again. The
   * project directory is the one this refresh runs in: the provider runs in the program's directory.
   */
  async read(id: string, props: StepOutputs | LegacyStepOutputs): Promise<ReadResult<StepOutputs>> {
    if (!("request" in props)) return { id, props: props as unknown as StepOutputs };
    const roots = { ...props.machine.roots, project: process.cwd() };
    const read = await runCommand("npm run --silent cli -- step read", roots.project, {
      ...props.runtimeEnvironment,
      RALPH_STEP_READ: JSON.stringify({
        command: props.create.replace(/^npm run --silent cli -- /, ""),
        request: props.request,
        result: props.stdout ? JSON.parse(props.stdout) : undefined,
      }),
      RALPH_MACHINE_ROOTS: JSON.stringify(roots),
    });
    const found = JSON.parse(read) as { present: boolean; result?: string };
    // An empty id tells the engine the artifact is gone: refresh drops the step and `up` runs it again.
    if (!found.present) return {};
    return { id, props: { ...props, stdout: found.result ?? props.stdout } };
  },

  async delete(): Promise<void> {
    // A step's results (a built deb, a publication) outlive it: destroy never removes artifacts.
  },
};
