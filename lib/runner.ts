/**
 * Runs a build or check step either on this machine or in a throw-away container of a given image,
 * through the Docker CLI (whatever engine DOCKER_HOST or the docker context names: Docker, podman's
 * Docker API, an engine on another machine). Nothing is mounted: a container gets its inputs copied
 * in before it starts and gives its results back by copy, as Ralph's packaging asks of its builds
 * (mounted volumes are slow on Docker Desktop), so the engine needs none of this machine's paths.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { PLATFORM_FLAG } from "./platform";

/** A file or directory of this machine, copied into the container before its command starts. */
export interface CopyIn {
  readonly host: string;
  /** Where it lands in the container (absolute); missing parents are made. */
  readonly container: string;
}

/** What the command made, copied back to this machine once it has succeeded. */
export interface CopyOut {
  readonly container: string;
  /** The path it is copied to (a directory that exists: it lands inside, under its own name). */
  readonly host: string;
}

export type Runner =
  | { readonly kind: "host" }
  | {
      readonly kind: "container";
      /** Image reference, by id or digest. */
      readonly image: string;
      readonly copyIn?: readonly CopyIn[];
      readonly copyOut?: readonly CopyOut[];
      /** Run as root inside (installing packages, writing where the copies landed). */
      readonly asRoot?: boolean;
    };

export interface StepResult {
  readonly status: number;
  /** stdout and stderr interleaved, as a user would have seen them. */
  readonly output: string;
}

interface Options {
  /** The working directory: on this machine, or in the container. */
  cwd: string;
  env?: Record<string, string>;
  onOutput?: (chunk: string) => void;
}

/** Runs `argv` (no shell) in `cwd` (a container path for containers); never throws on a non-zero exit. */
export function runStep(runner: Runner, argv: readonly string[], options: Options): Promise<StepResult> {
  return runner.kind === "host" ? run(argv, options) : runInContainer(runner, argv, options);
}

/** The docker CLI's own variables: a step's value for one (HOME=/build) must not redirect the CLI. */
const CLI_OWN = /^(HOME|PATH|USER|LOGNAME|TMPDIR|XDG_[A-Z_]+|SSH_[A-Z_]+|DOCKER_[A-Z_]+)$/;

/** Containers of this process not removed yet: a stopped step (SIGINT, SIGTERM) removes them first. */
const live = new Set<string>();
const removeContainer = (name: string) =>
  spawnSync("docker", ["rm", "--force", name], { stdio: "ignore", timeout: 60_000 });
function removeLiveOn(signal: NodeJS.Signals): void {
  process.once(signal, () => {
    for (const name of live) removeContainer(name);
    process.kill(process.pid, signal);
  });
}
let signalsHandled = false;

/** The label every container of a step carries: `docker ps --all --filter label=ralph-release=step`. */
export const STEP_LABEL = "--label=ralph-release=step";

/**
 * Counts `name` as this process's container until the returned function is called: a SIGINT or
 * SIGTERM in between removes it before the process stops.
 */
export function trackContainer(name: string): () => void {
  if (!signalsHandled) {
    signalsHandled = true;
    removeLiveOn("SIGINT");
    removeLiveOn("SIGTERM");
  }
  live.add(name);
  return () => live.delete(name);
}

/**
 * `docker create`, the copies in, `docker start --attach`, the exit code from `docker inspect` once
 * the container has exited (podman's Docker API loses it on the CLI's side of `docker run --rm` and
 * of attach; an attach that ends early is waited out), the copies out, and the container removed
 * whatever happened. Containers carry the label `ralph-release=step`: one a killed step left behind
 * is `docker ps --all --filter label=ralph-release=step`.
 */
async function runInContainer(
  runner: Extract<Runner, { kind: "container" }>,
  argv: readonly string[],
  options: Options,
): Promise<StepResult> {
  const env = options.env ?? {};
  const container = `ralph-release-${randomBytes(6).toString("hex")}`;
  let output = "";
  const collect = (chunk: string) => {
    output += chunk;
    options.onOutput?.(chunk);
  };
  const failed = (what: string, result: StepResult): StepResult => ({
    status: result.status === 0 ? 1 : result.status,
    output: `${output}${what}:\n${result.output}`,
  });
  // Values travel in the environment, never on the command line (`--env NAME` reads it from the
  // CLI's), but for the CLI's own variables, which are no secrets.
  const own = Object.keys(env).filter((name) => CLI_OWN.test(name));
  const passed = Object.keys(env).filter((name) => !CLI_OWN.test(name));
  const untrack = trackContainer(container);
  try {
    const created = await run(
      [
        "docker",
        "create",
        `--name=${container}`,
        STEP_LABEL,
        PLATFORM_FLAG,
        // Builds fetch dependencies (apt, pip) the way the engine's machine does.
        "--network=host",
        // A step that only reads its inputs need not be root.
        ...(!runner.asRoot && process.getuid && process.getgid
          ? [`--user=${process.getuid()}:${process.getgid()}`]
          : []),
        `--workdir=${options.cwd}`,
        ...own.map((name) => `--env=${name}=${env[name]}`),
        ...passed.map((name) => `--env=${name}`),
        runner.image,
        ...argv,
      ],
      { cwd: "/", env: Object.fromEntries(passed.map((name) => [name, env[name]])) },
    );
    if (created.status !== 0) return failed(`docker create of ${runner.image} failed`, created);
    for (const input of runner.copyIn ?? []) {
      const copied = await copyAgainIfDropped(
        () => copyIntoContainer(container, input),
        (result) => result.retry === true,
      );
      if (copied.status !== 0) return failed(`could not copy ${input.host} into the container`, copied);
    }
    let started = await run(["docker", "start", "--attach", container], { cwd: "/", onOutput: collect });
    let state = await containerState(container);
    if (state?.status === "created") {
      // Never started (podman's Docker API refuses an attach now and then under load): its command
      // has not run, so starting it again is safe, once.
      started = await run(["docker", "start", "--attach", container], { cwd: "/", onOutput: collect });
      state = await containerState(container);
    }
    if (state?.status === "running") {
      // The attach ended before the command (a dropped connection to a remote engine): wait it out,
      // and take the whole output from the engine.
      await run(["docker", "wait", container], { cwd: "/" });
      state = await containerState(container);
      const logs = await run(["docker", "logs", container], { cwd: "/" });
      if (logs.status === 0) output = logs.output;
    }
    if (state?.status !== "exited") {
      return failed(`the container did not run its command (${state?.status ?? "state unknown"})`, started);
    }
    if (state.exitCode !== 0) return { status: state.exitCode, output };
    for (const result of runner.copyOut ?? []) {
      const copied = await copyAgainIfDropped(
        () => run(["docker", "cp", `${container}:${result.container}`, result.host], { cwd: "/" }),
        () => true,
      );
      if (copied.status !== 0) return failed(`could not copy ${result.container} out of the container`, copied);
    }
    return { status: 0, output };
  } finally {
    removeContainer(container);
    untrack();
  }
}

/**
 * A copy made again, twice at most, while it fails and `dropped` says the engine's side dropped it:
 * podman's Docker API does now and then under load ("passing bulk input to subprocess: write |1:
 * broken pipe"). A copy into a container that has not started, or out of one that has exited, can be
 * made again.
 */
async function copyAgainIfDropped<T extends StepResult>(copy: () => Promise<T>, dropped: (result: T) => boolean) {
  let result = await copy();
  for (let attempt = 1; result.status !== 0 && dropped(result) && attempt < 3; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    result = await copy();
  }
  return result;
}

/** The container's status (`created`, `running`, `exited`) and exit code, from stdout alone. */
async function containerState(container: string): Promise<{ status: string; exitCode: number } | undefined> {
  const inspected = await run(["docker", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container], {
    cwd: "/",
  });
  const match = /^(\w+) (\d+)$/m.exec(inspected.stdout.trim());
  return inspected.status === 0 && match ? { status: match[1], exitCode: Number(match[2]) } : undefined;
}

/**
 * Streams `input` as a tar archive whose names are its container path, extracted at the container's
 * root (`docker cp -`): parents are made, nothing else is touched. A file is copied as its content
 * (a symlink to a CA bundle brings the bundle); a directory's own symlinks stay links. Everything is
 * readable inside (a deb written under umask 077 is still read by a check that is not root).
 */
function copyIntoContainer(container: string, input: CopyIn): Promise<StepResult & { retry?: boolean }> {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(input.host).isDirectory();
  } catch {
    return Promise.resolve({ status: 1, output: `${input.host} does not exist on this machine` });
  }
  const target = input.container.replace(/^\/+/, "").replace(/\/+$/, "");
  const tarArgs = [
    "-c",
    "-f",
    "-",
    "--numeric-owner",
    "--owner=0",
    "--group=0",
    "--mode=a+rX",
    ...(isDirectory ? [] : ["--dereference"]),
    // The archive holds one top-level entry: its name becomes the target (S: not symlink targets;
    // hard link targets are member names, and follow).
    `--transform=s|^[^/]*|${target.replace(/[\\&|]/g, "\\$&")}|S`,
    "-C",
    dirname(input.host),
    "--",
    basename(input.host),
  ];
  return new Promise((resolve, reject) => {
    const tar = spawn("tar", tarArgs, { stdio: ["ignore", "pipe", "pipe"] });
    const cp = spawn("docker", ["cp", "-", `${container}:/`], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => (output += chunk.toString());
    tar.stderr.on("data", collect);
    cp.stdout.on("data", collect);
    cp.stderr.on("data", collect);
    // A copy that fails early closes its input: tar's write error is reported by tar's status.
    cp.stdin.on("error", () => undefined);
    tar.stdout.pipe(cp.stdin);
    let tarStatus: number | null = null;
    tar.on("error", reject);
    cp.on("error", reject);
    tar.on("close", (status) => (tarStatus = status));
    cp.on("close", (status) => {
      // The engine's side failed (tar's own failures are this machine's files: no use trying again).
      const done = () =>
        resolve({ status: status !== 0 ? (status ?? 1) : (tarStatus ?? 1), output, retry: status !== 0 });
      if (tarStatus !== null) return done();
      // cp is gone: nothing reads tar's output any more, and a full pipe would hold tar forever.
      if (status !== 0) tar.kill();
      tar.once("close", done);
    });
  });
}

/** Runs a command: stdout and stderr interleaved as `output`, and stdout alone for what is parsed. */
function run(argv: readonly string[], options: Options): Promise<StepResult & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let stdout = "";
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      options.onOutput?.(text);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      collect(chunk);
    });
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (status) => resolve({ status: status ?? 1, output, stdout }));
  });
}

/** The last `count` lines of a step's output, for error messages. */
export function tail(output: string, count = 40): string {
  return output.trimEnd().split("\n").slice(-count).join("\n");
}
