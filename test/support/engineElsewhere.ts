/**
 * A container engine that cannot see this machine's files, as one on another machine cannot (a
 * `DOCKER_HOST=ssh://…` or `tcp://…` build host, Docker Desktop's VM): podman's Docker API served
 * from a mount namespace of its own, where the temp directory (every test's checkouts, project copies
 * and builds) and this project's directory are empty. It keeps the storage of .ci/containers.sh's
 * engine (its images and layer cache), and listens on a loopback TCP port. Root, as that script.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PROJECT_DIR, requireLane, useContainerEngine } from "./containers";
import { tempDir } from "./gitRepo";

let service: { process: ChildProcess; dockerHost: string; before: string | undefined } | undefined;
let commandLog: string | undefined;

/**
 * Puts a `docker` first on PATH that writes down each command line and runs the real one: what the
 * code under test asked of the engine, for `dockerCommands`.
 */
function recordDockerCommands(): void {
  const real = spawnSync("sh", ["-c", "command -v docker"], { encoding: "utf8" }).stdout.trim();
  const bin = tempDir("ralph-release-docker-log-");
  commandLog = join(bin, "commands");
  // Arguments end with US (0x1f), commands with RS (0x1e): any argument survives.
  writeFileSync(
    join(bin, "docker"),
    `#!/bin/sh\n{ printf '%s\\037' "$@"; printf '\\036'; } >> '${commandLog}'\nexec '${real}' "$@"\n`,
  );
  chmodSync(join(bin, "docker"), 0o755);
  process.env.PATH = `${bin}:${process.env.PATH}`;
}

/** Every docker command line run since the engine elsewhere was first used, arguments split. */
export function dockerCommands(): string[][] {
  if (!commandLog || !existsSync(commandLog)) return [];
  return readFileSync(commandLog, "utf8")
    .split("\x1e")
    .filter((record) => record !== "")
    .map((record) => record.split("\x1f").slice(0, -1));
}

/** Directories hidden from the engine: each with nothing above it in the list. */
function hiddenDirectories(): string[] {
  const dirs = [tmpdir(), PROJECT_DIR];
  const inside = (dir: string, parent: string) => !relative(parent, dir).startsWith("..");
  return dirs.filter((dir, i) => !dirs.some((other, j) => j !== i && inside(dir, other) && (dir !== other || j < i)));
}

function freeLoopbackPort(): number {
  const probe = `const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });`;
  return Number(spawnSync(process.execPath, ["-e", probe], { encoding: "utf8" }).stdout.trim());
}

/**
 * Points this process's DOCKER_HOST (and so every docker CLI the code under test runs) at the engine
 * elsewhere, starting it once per test file; returns that DOCKER_HOST. The service stops with the
 * process.
 */
export function useEngineElsewhere(): string {
  requireLane("the container engine elsewhere");
  useContainerEngine();
  if (service) {
    process.env.DOCKER_HOST = service.dockerHost;
    return service.dockerHost;
  }
  recordDockerCommands();
  const port = freeLoopbackPort();
  const dockerHost = `tcp://127.0.0.1:${port}`;
  const hide = hiddenDirectories().map((dir) => `mount -t tmpfs tmpfs '${dir}'`);
  const log = openSync("/var/log/ralph-release-podman-elsewhere.log", "a");
  // From / (conmon fails once its cwd is gone); exec, so the service is the process that is stopped.
  const started = spawn(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `${hide.join(" && ")} && exec podman --runtime runc system service --time=0 ${dockerHost}`,
    ],
    { cwd: "/", stdio: ["ignore", log, log] },
  );
  closeSync(log);
  process.once("exit", () => started.kill());
  for (let attempt = 0; attempt < 100; attempt++) {
    const ping = spawnSync("curl", ["-sf", `http://127.0.0.1:${port}/_ping`]);
    if (ping.status === 0) {
      service = { process: started, dockerHost, before: process.env.DOCKER_HOST };
      process.env.DOCKER_HOST = dockerHost;
      return dockerHost;
    }
    if (started.exitCode !== null) break;
    spawnSync("sleep", ["0.1"]);
  }
  started.kill();
  throw new Error(
    `podman's API service in a mount namespace of its own did not answer on ${dockerHost}: see /var/log/ralph-release-podman-elsewhere.log`,
  );
}

/** Stops the engine elsewhere (afterAll); DOCKER_HOST goes back to what it was. */
export function stopEngineElsewhere(): void {
  if (!service) return;
  service.process.kill();
  if (service.before === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = service.before;
  service = undefined;
}
