/**
 * The image steps before a push: staging the ralph image's context, building an image, and the smoke
 * gate run against each built image. Pure of Pulumi; the components run them through the CLI
 * (`image stage`, `image build`, `image smoke`) and the tests call them directly.
 */
import dockerignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { basename, isAbsolute, join, relative } from "node:path";
import { directoryDigest } from "../deb/build";
import { UserError } from "../errors";
import { PLATFORM_FLAG, PLATFORM_LABEL } from "../platform";
import { type Runner, runStep, STEP_LABEL, tail, trackContainer } from "../runner";

export class ImageSmokeError extends UserError {}
export class ImageBuildError extends UserError {}

const host: Runner = { kind: "host" };

async function docker(...args: string[]) {
  return runStep(host, ["docker", ...args], { cwd: "/" });
}

/**
 * The digest of what `docker build` reads of a checkout: the files of its context that .dockerignore
 * leaves in (all of them without one, as directoryDigest has it), the .dockerignore itself, and the
 * Dockerfile wherever it is. A file the build never sees (a local venv, editor backups) builds
 * nothing again. Git's metadata is not content, with or without a .dockerignore (as before).
 */
export function contextDigest(context: string, dockerfile: string): string {
  if (!isAbsolute(context) || !isAbsolute(dockerfile)) throw new Error(`not absolute: ${context}, ${dockerfile}`);
  const fromContext = relative(context, dockerfile);
  const inContext = fromContext !== ".." && !fromContext.startsWith("../") && !isAbsolute(fromContext);
  const ignoreFile = join(context, ".dockerignore");
  let digest: string;
  if (!existsSync(ignoreFile)) digest = directoryDigest(context);
  else {
    const lines = readFileSync(ignoreFile, "utf8").split(/\r?\n/);
    // Docker matches case-sensitively (on Linux), as this does only when told.
    const rules = dockerignore({ ignorecase: false }).add(lines);
    // An exception (`!path`) can bring back a file under an excluded directory: then it is walked.
    // So is the Dockerfile's directory: Docker reads the Dockerfile wherever it is.
    const exceptions = lines.some((line) => line.trim().startsWith("!"));
    digest = directoryDigest(context, (path, isDirectory) => {
      if (path === ".dockerignore" || path === fromContext) return false;
      if (!isDirectory) return rules.ignores(path);
      return !exceptions && !fromContext.startsWith(`${path}/`) && rules.ignores(path);
    });
  }
  if (inContext) return digest;
  return createHash("sha256").update(digest).update("\0Dockerfile\0").update(readFileSync(dockerfile)).digest("hex");
}

export interface ImageBuildRequest {
  /** The build context. */
  readonly context: string;
  readonly dockerfile: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** The local name it is tagged with, for people; whatever consumes the image uses its id. */
  readonly tag: string;
  /** Digest of what goes into the image (the context's files): a change builds it again. */
  readonly contextDigest: string;
}

/**
 * Builds an image with the classic builder (any Docker-API engine, podman included), its output
 * streamed to `log`; returns its id. RUN steps reach apt mirrors and indexes the way this machine does.
 */
export async function buildImage(
  request: ImageBuildRequest,
  log: (chunk: string) => void = () => {},
): Promise<{ id: string; tag: string }> {
  const args = Object.entries(request.buildArgs).map(([key, value]) => `--build-arg=${key}=${value}`);
  const built = await runStep(
    host,
    [
      "docker",
      "build",
      PLATFORM_FLAG,
      PLATFORM_LABEL,
      "--network=host",
      ...args,
      "--file",
      request.dockerfile,
      "--tag",
      request.tag,
      request.context,
    ],
    { cwd: "/", env: { DOCKER_BUILDKIT: "0" }, onOutput: log },
  );
  if (built.status !== 0) {
    throw new ImageBuildError(`docker build of ${request.tag} (${request.dockerfile}) failed:\n${tail(built.output)}`);
  }
  const inspected = await docker("image", "inspect", "--format", "{{.Id}}", request.tag);
  const id = inspected.output.trim().split("\n").at(-1) ?? "";
  if (inspected.status !== 0 || !id.startsWith("sha256:")) {
    throw new ImageBuildError(`built ${request.tag} but cannot read its id:\n${tail(inspected.output)}`);
  }
  return { id, tag: request.tag };
}

export interface StageRequest {
  /** docker/ralph of this project. */
  readonly recipeDir: string;
  /** Its digest when declared: a changed recipe stages (and builds) again. */
  readonly recipeDigest: string;
  /** Where the context is assembled. */
  readonly contextDir: string;
  /** The verified deb, for a snapshot; a release installs from the apt repository instead. */
  readonly debPath?: string;
}

/** Where the ralph image's context for a version lives: beside that version's deb. */
export function ralphContextDir(outDir: string, debianVersion: string): string {
  return join(outDir, debianVersion, "image-context", "ralph");
}

export interface StagedContext {
  readonly context: string;
  readonly dockerfile: string;
  /** Digest of everything staged: what the ralph image's build is keyed on. */
  readonly digest: string;
}

/** Copies the recipe and (snapshot) the deb into a fresh context directory. */
export function stageRalphContext(request: StageRequest): StagedContext {
  rmSync(request.contextDir, { recursive: true, force: true });
  cpSync(request.recipeDir, request.contextDir, { recursive: true });
  const debs = join(request.contextDir, "debs");
  mkdirSync(debs, { recursive: true });
  if (request.debPath) copyFileSync(request.debPath, join(debs, basename(request.debPath)));
  return {
    context: request.contextDir,
    dockerfile: join(request.contextDir, "Dockerfile"),
    digest: directoryDigest(request.contextDir),
  };
}

export type SmokeKind = "ralph" | "static" | "inkpy";

export interface SmokeRequest {
  readonly kind: SmokeKind;
  /** The image by digest or id. */
  readonly image: string;
  /**
   * static: an image with python3 (the ralph image it was built from) that asks the running nginx over
   * HTTP from inside its network. The engine may be on another machine, where a published port is
   * not this machine's.
   */
  readonly probeImage?: string;
}

/** Asks for the URL in argv[1] for up to 10 s; prints the status. Python: the ralph image has it. */
const HTTP_PROBE = `
import sys, time, urllib.request
deadline, last = time.time() + 10, ""
while time.time() < deadline:
    try:
        print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
        sys.exit(0)
    except Exception as error:
        last = str(error)
        time.sleep(0.25)
sys.exit("no answer: " + last)
`;

async function withContainer<T>(args: string[], use: (name: string) => Promise<T>): Promise<T> {
  const name = `ralph-release-smoke-${Math.random().toString(16).slice(2, 10)}`;
  const untrack = trackContainer(name);
  const started = await docker("run", PLATFORM_FLAG, STEP_LABEL, "--detach", `--name=${name}`, ...args);
  try {
    if (started.status !== 0) throw new ImageSmokeError(`could not start ${args.at(-1)}:\n${tail(started.output)}`);
    return await use(name);
  } finally {
    await docker("rm", "--force", name);
    untrack();
  }
}

/**
 * `docker run` to completion, removing the container afterwards. Not `--rm`: through podman's Docker
 * API the CLI then reports exit status 0 whatever the container did.
 */
async function runToCompletion(args: string[]) {
  const name = `ralph-release-smoke-${Math.random().toString(16).slice(2, 10)}`;
  const untrack = trackContainer(name);
  try {
    return await docker("run", PLATFORM_FLAG, STEP_LABEL, `--name=${name}`, ...args);
  } finally {
    await docker("rm", "--force", name);
    untrack();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the smoke check for one image; returns what it saw, throws with the image's output when it fails. */
export async function smokeTest(request: SmokeRequest): Promise<string> {
  const { image } = request;
  switch (request.kind) {
    case "ralph": {
      // The entry point passes anything but "start" to ralphctl: the CLI must run and exit 0.
      const run = await runToCompletion([image, "--version"]);
      if (run.status !== 0 || !/\S/.test(run.output)) {
        throw new ImageSmokeError(`ralph image ${image}: \`--version\` exited ${run.status}:\n${tail(run.output)}`);
      }
      return run.output.trim().split("\n").at(-1) ?? "";
    }
    case "static": {
      const listing = await runToCompletion(["--entrypoint", "find", image, "/usr/share/ralph/static", "-type", "f"]);
      const file = listing.output.split("\n").find((line) => line.startsWith("/usr/share/ralph/static/"));
      if (!file) throw new ImageSmokeError(`static image ${image} holds no static files:\n${tail(listing.output)}`);
      const path = file.replace("/usr/share/ralph/static/", "/static/");
      if (!request.probeImage) throw new ImageSmokeError(`static image ${image}: no probe image to ask nginx with`);
      const probeImage = request.probeImage;
      return withContainer([image], async (name) => {
        const probe = await runToCompletion([
          `--network=container:${name}`,
          "--entrypoint",
          "python3",
          probeImage,
          "-c",
          HTTP_PROBE,
          `http://127.0.0.1:80${path}`,
        ]);
        if (probe.status === 0 && probe.output.trim().split("\n").at(-1) === "200") return `GET ${path} -> 200`;
        const logs = await docker("logs", name);
        throw new ImageSmokeError(
          `static image ${image} did not serve ${path} (${tail(probe.output, 3)}):\n${tail(logs.output)}`,
        );
      });
    }
    case "inkpy":
      return withContainer([image], async (name) => {
        await sleep(3000);
        const state = await docker("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", name);
        if (!state.output.trim().startsWith("true")) {
          const logs = await docker("logs", name);
          throw new ImageSmokeError(
            `inkpy image ${image} did not stay up (${state.output.trim()}):\n${tail(logs.output)}`,
          );
        }
        return "inkpy running after 3 s";
      });
  }
}
