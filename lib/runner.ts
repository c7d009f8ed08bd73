/**
 * Runs a build or check step either on this machine or in a throw-away container of a given image,
 * through the Docker CLI (whatever engine DOCKER_HOST names: Docker, or podman's Docker API).
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface Mount {
  readonly host: string;
  readonly container: string;
  readonly readOnly?: boolean;
}

export type Runner =
  | { readonly kind: "host" }
  | {
      readonly kind: "container";
      /** Image reference, by id or digest. */
      readonly image: string;
      readonly mounts: readonly Mount[];
      /** Run as root inside (installing packages); otherwise as the calling user, so mounts stay theirs. */
      readonly asRoot?: boolean;
    };

export interface StepResult {
  readonly status: number;
  /** stdout and stderr interleaved, as a user would have seen them. */
  readonly output: string;
}

/** Runs `argv` (no shell) in `cwd` (a container path for containers); never throws on a non-zero exit. */
export function runStep(
  runner: Runner,
  argv: readonly string[],
  options: { cwd: string; env?: Record<string, string>; onOutput?: (chunk: string) => void },
): Promise<StepResult> {
  const env = options.env ?? {};
  // Not `docker run --rm`: with podman's Docker API the CLI then loses the exit status (always 0), and
  // a failed build would pass. The container is named and removed afterwards instead.
  const container = `ralph-release-${randomBytes(6).toString("hex")}`;
  const [command, args] =
    runner.kind === "host"
      ? [argv[0], argv.slice(1)]
      : [
          "docker",
          [
            "run",
            `--name=${container}`,
            // Builds fetch dependencies (apt, pip) the way the host does.
            "--network=host",
            // Files the step writes into mounts belong to the caller, not to root.
            ...(!runner.asRoot && process.getuid && process.getgid
              ? [`--user=${process.getuid()}:${process.getgid()}`]
              : []),
            ...runner.mounts.map((m) => `--volume=${m.host}:${m.container}${m.readOnly ? ":ro" : ""}`),
            `--workdir=${options.cwd}`,
            ...Object.keys(env).map((name) => `--env=${name}`),
            runner.image,
            ...argv,
          ],
        ];
  return new Promise((resolve, reject) => {
    // Values travel in the environment, never on the command line (`--env NAME` reads it from ours).
    const child = spawn(command, args, {
      cwd: runner.kind === "host" ? options.cwd : undefined,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      options.onOutput?.(text);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (status) => {
      if (runner.kind === "container") spawnSync("docker", ["rm", "--force", container], { stdio: "ignore" });
      resolve({ status: status ?? 1, output });
    });
  });
}

/** The last `count` lines of a step's output, for error messages. */
export function tail(output: string, count = 40): string {
  return output.trimEnd().split("\n").slice(-count).join("\n");
}
