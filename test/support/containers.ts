/**
 * The container engine the tests use: whatever DOCKER_HOST names, else the podman socket that
 * .ci/containers.sh starts. No engine is an error with the fix, never a skipped test.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildDepends, distributionProfile, renderControl } from "../../lib/deb/distributions";
import { PLATFORM_FLAG } from "../../lib/platform";
import { runStep } from "../../lib/runner";

const CI_SOCKET = "/run/ralph-release/podman.sock";
/** The Debian base .ci/containers.sh bootstraps (no registry is reachable to pull one). */
export const BASE_IMAGE = process.env.RALPH_RELEASE_BASE_IMAGE ?? "localhost/debian:bookworm";
export const PROJECT_DIR = join(__dirname, "..", "..");

/**
 * The Docker CLI, asynchronously (a test may serve what a build fetches from this very process, which
 * a synchronous call would block); the classic builder, as the pipeline's builds use. Its last line.
 */
export async function docker(...args: string[]): Promise<string> {
  const result = await runStep({ kind: "host" }, ["docker", ...args], { cwd: "/", env: { DOCKER_BUILDKIT: "0" } });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${result.status}:\n${result.output}`);
  return result.output.trim().split("\n").at(-1) ?? "";
}

/**
 * Refuses a shared resource (the container engine, the registry, the real Pulumi engine) to a test file
 * of a vitest lane that may not use it (vitest.config.mts), where it would race the serial lane's files
 * for the same tags and ports. Outside vitest (the benchmarks) anything goes.
 */
export function requireLane(resource: string, lanes: readonly string[] = ["serial"]): void {
  const lane = process.env.RALPH_RELEASE_TEST_LANE;
  if (process.env.VITEST && !lanes.includes(lane ?? "")) {
    throw new Error(
      `${resource} is for the ${lanes.join(" and ")} test lane, and this file runs in the ${lane ?? "unnamed"} lane: ` +
        "add it to SERIAL_FILES in vitest.config.mts.",
    );
  }
}

export function useContainerEngine(): void {
  requireLane("the container engine", ["serial", "real-tree"]);
  if (!process.env.DOCKER_HOST && existsSync(CI_SOCKET)) process.env.DOCKER_HOST = `unix://${CI_SOCKET}`;
  const probe = spawnSync("docker", ["image", "inspect", BASE_IMAGE], { encoding: "utf8" });
  if (probe.status !== 0) {
    throw new Error(
      `No container engine with image ${BASE_IMAGE} (DOCKER_HOST=${process.env.DOCKER_HOST ?? "unset"}): ` +
        `run .ci/containers.sh as root first.\n${probe.stderr}`,
    );
  }
}

/**
 * Builds the deb builder image from docker/deb-builder/Dockerfile exactly as DebPackage declares it;
 * returns its id. `nodeMinimum` adds node for a tree with a front end.
 */
export function buildBuilderImage(
  options: { distribution?: string; baseImage?: string; nodeMinimum?: string; extraBuildDepends?: string[] } = {},
): string {
  const distribution = options.distribution ?? "debian/bookworm";
  const profile = distributionProfile(distribution) ?? expectProfile(distribution);
  const control = renderControl(readFileSync(join(PROJECT_DIR, "debian", "control.in"), "utf8"), {
    profile,
    pythonMinimum: profile.python,
    nodeMinimum: options.nodeMinimum,
    extraBuildDepends: options.extraBuildDepends,
  });
  const tag = `localhost/ralph-release/deb-builder:test-${profile.name.replace("/", "-")}${options.nodeMinimum ? "-node" : ""}${options.extraBuildDepends ? "-extra" : ""}`;
  execFileSync(
    "docker",
    [
      "build",
      PLATFORM_FLAG,
      "--quiet",
      `--build-arg=BASE_IMAGE=${options.baseImage ?? BASE_IMAGE}`,
      `--build-arg=BUILD_DEPENDS=${buildDepends(control)}`,
      "--file",
      join(PROJECT_DIR, "docker", "deb-builder", "Dockerfile"),
      "--tag",
      tag,
      join(PROJECT_DIR, "docker", "deb-builder"),
    ],
    { env: { ...process.env, DOCKER_BUILDKIT: "0" }, stdio: ["ignore", "ignore", "inherit"] },
  );
  return execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", tag], { encoding: "utf8" }).trim();
}

function expectProfile(distribution: string): never {
  throw new Error(`no profile for ${distribution}`);
}
