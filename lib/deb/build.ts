/**
 * Builds the ralph-core .deb from a Ralph checkout with this project's debian/ recipes, in a builder
 * container or on the host, and describes the artifact. Pure of Pulumi: the DebPackage component runs
 * this through the CLI (`deb build`), and the tests call it directly.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { renderChangelog } from "../version/changelog";
import { type ControlValues, distributionProfile, maintainer, renderControl } from "./distributions";
import { UserError } from "../errors";
import { git, gitWithEnv } from "../version/git";
import { explainPipFailure } from "./pipFailure";
import { type IndexAccess, indexAccessForContainer, parsePipConfigList } from "./indexAccess";
import { ARCHITECTURE } from "../platform";
import { type Runner, runStep, tail } from "../runner";

export const PACKAGE_NAME = "ralph-core";
export { ARCHITECTURE };

export class DebBuildError extends UserError {}

/** Everything a build depends on; its fingerprint decides whether to rebuild. */
export interface DebBuildRequest {
  /** The Ralph checkout. */
  readonly source: string;
  /** Commit being packaged (changelog, dates). */
  readonly commit: string;
  /** Git tree id of the content to package: the commit's tree, or the working tree for a dirty snapshot. */
  readonly treeId: string;
  readonly debianVersion: string;
  /** Ralph's own version string (the release tag, or `<next>-<branch>-SNAPSHOT`); defaults to debianVersion. */
  readonly version?: string;
  /** `<distro>/<release>`. */
  readonly distribution: string;
  readonly pythonMinimum: string;
  readonly nodeMinimum: string;
  /** dh-virtualenv's `--upgrade-pip-to` (the checkout's pin); undefined: the venv's own pip. */
  readonly pipVersion?: string;
  /** Extra pip arguments for the venv (e.g. offline: `--no-index`). */
  readonly pipArgs: readonly string[];
  /** Pre-built front-end assets laid over the tree (then npm, bower and gulp are skipped). */
  readonly frontendAssets?: string;
  /** Extra Build-Depends and Depends (debian/control), from config. */
  readonly extraBuildDepends?: readonly string[];
  readonly extraDepends?: readonly string[];
  /** This project's debian/ directory. */
  readonly debianDir: string;
  /** Where artifacts go: `<outDir>/<debianVersion>/`. */
  readonly outDir: string;
  /** `host`, or the builder image (by id) to run dpkg-buildpackage in. */
  readonly builderImage?: string;
  /**
   * A release's deb is never replaced by different bytes: a rebuild that differs from the file already
   * in `<outDir>/<version>/` fails instead. Snapshots are overwritten.
   */
  readonly keepExisting?: boolean;
}

export interface DebArtifact {
  readonly path: string;
  readonly fileName: string;
  readonly packageName: string;
  readonly version: string;
  readonly architecture: string;
  readonly size: number;
  readonly sha256: string;
  /** `SHA256SUMS` beside the artifacts. */
  readonly checksumsPath: string;
  readonly buildLog: string;
}

/**
 * Runs `use` with the git tree id of the working tree as it is, untracked files included (ignored ones
 * not), and the environment under which git reads that tree's objects. The tree is made through a
 * throw-away index and a throw-away object directory that borrows the checkout's own (read only):
 * nothing is written into the user's repository, index or object store. Equals `HEAD^{tree}` on a
 * clean tree.
 */
function withWorkingTree<T>(source: string, use: (treeId: string, env: Record<string, string>) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "ralph-release-index-"));
  try {
    const [userIndex, userObjects] = git(source, "rev-parse", "--git-path", "index", "--git-path", "objects")
      .split("\n")
      .map((path) => resolve(source, path));
    const index = join(dir, "index");
    try {
      copyFileSync(userIndex, index);
    } catch {
      // No index yet (fresh clone without checkout): git add builds one.
    }
    // git takes a repository only with its object directory there.
    mkdirSync(join(dir, "objects"));
    const env = {
      GIT_INDEX_FILE: index,
      GIT_OBJECT_DIRECTORY: join(dir, "objects"),
      GIT_ALTERNATE_OBJECT_DIRECTORIES: userObjects,
    };
    // Settings that would have git write beside the user's index (a shared index, an untracked cache).
    const scratch = ["-c", "core.splitIndex=false", "-c", "core.untrackedCache=false", "-c", "core.fsmonitor=false"];
    gitWithEnv(source, env, ...scratch, "add", "--all", "--", ".");
    return use(gitWithEnv(source, env, ...scratch, "write-tree"), env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function workingTreeId(source: string): string {
  return withWorkingTree(source, (treeId) => treeId);
}

/**
 * sha256 over every file under `dir` (relative path, executable bit, content), in a stable order;
 * git's own metadata is not content. `skip` leaves out what it names (a relative path, `/`-separated):
 * a directory with all it holds.
 */
export function directoryDigest(
  dir: string,
  skip: (path: string, isDirectory: boolean) => boolean = () => false,
): string {
  const hash = createHash("sha256");
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === ".git") continue;
      const path = join(current, entry.name);
      if (skip(relative(dir, path), entry.isDirectory())) continue;
      if (entry.isDirectory()) walk(path);
      else {
        const executable = (statSync(path).mode & 0o111) !== 0;
        hash.update(`${relative(dir, path)}\0${executable ? "x" : "-"}\0`);
        hash.update(readFileSync(path));
        hash.update("\0");
      }
    }
  };
  walk(dir);
  return hash.digest("hex");
}

/**
 * The build's fingerprint: a hash of exactly what affects the deb. Same inputs → same value, so
 * Pulumi does not rebuild; any change → a new value, so it does.
 */
/**
 * The build's triggers, by name: the fingerprint of everything, and beside it what most often
 * changes, so `pulumi preview --diff` says why the deb is built again.
 */
export function buildTriggers(request: DebBuildRequest, builderRecipeDigest: string): Record<string, string> {
  return {
    fingerprint: buildFingerprint(request, builderRecipeDigest),
    commit: request.commit,
    tree: request.treeId,
    packaging: directoryDigest(request.debianDir),
    builder: request.builderImage ?? "host",
  };
}

/**
 * Where a mode's artifacts go: a release's in `build/<version>/`, a snapshot's in
 * `build/snapshots/<version>/`, so a snapshot of a tagged commit never overwrites (or is taken for)
 * the release's deb, attestations and records.
 */
export function outDirFor(projectDir: string, mode: "release" | "snapshot"): string {
  return mode === "release" ? join(projectDir, "build") : join(projectDir, "build", "snapshots");
}

export function buildFingerprint(request: DebBuildRequest, builderRecipeDigest: string): string {
  const inputs = {
    treeId: request.treeId,
    commit: request.commit,
    debianVersion: request.debianVersion,
    version: request.version,
    distribution: request.distribution,
    pythonMinimum: request.pythonMinimum,
    nodeMinimum: request.nodeMinimum,
    pipArgs: request.pipArgs,
    frontendAssets: request.frontendAssets ? directoryDigest(request.frontendAssets) : undefined,
    extraBuildDepends: request.extraBuildDepends,
    extraDepends: request.extraDepends,
    debian: directoryDigest(request.debianDir),
    builder: request.builderImage ?? "host",
    builderRecipe: builderRecipeDigest,
    // Only when pinned: a stack without a pin keeps its fingerprint.
    ...(request.pipVersion ? { pipVersion: request.pipVersion } : {}),
  };
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/**
 * Whether the builder builds a front end (the tree has package.json, and no pre-built assets were
 * supplied): then node is a build dependency.
 */
export function buildsFrontEnd(tree: string, frontendAssets: string | undefined): boolean {
  return frontendAssets === undefined && existsSync(join(tree, "package.json"));
}

/** Renders debian/ for this build: control from its template, changelog from git. */
export function prepareDebianDir(request: DebBuildRequest, target: string): { control: string } {
  const profile = distributionProfile(request.distribution);
  if (!profile) throw new DebBuildError(`no packaging profile for distribution ${request.distribution}`);
  cpSync(request.debianDir, target, { recursive: true });
  rmSync(join(target, "control.in"));
  const values: ControlValues = {
    profile,
    pythonMinimum: request.pythonMinimum,
    nodeMinimum: buildsFrontEnd(join(target, ".."), request.frontendAssets) ? request.nodeMinimum : undefined,
    extraBuildDepends: request.extraBuildDepends,
    extraDepends: request.extraDepends,
  };
  const control = renderControl(readFileSync(join(request.debianDir, "control.in"), "utf8"), values);
  writeFileSync(join(target, "control"), control);
  const changelog = renderChangelog({
    source: request.source,
    commit: request.commit,
    debianVersion: request.debianVersion,
    codename: profile.name.split("/")[1],
    maintainer: maintainer(control),
  });
  writeFileSync(join(target, "changelog"), changelog);
  return { control };
}

/** This machine's pip and npm index settings (`pip config list`, `npm config get`), for a builder container. */
function hostIndexAccess(): IndexAccess {
  const pip = spawnSync("python3", ["-m", "pip", "config", "list"], { encoding: "utf8" });
  const npm = spawnSync("npm", ["config", "get", "registry", "cafile"], { encoding: "utf8" });
  const npmValues = Object.fromEntries(
    (npm.status === 0 ? npm.stdout : "")
      .split("\n")
      .map((line) => /^(registry|cafile)=(.+)$/.exec(line.trim()))
      .filter((match): match is RegExpExecArray => match !== null && match[2] !== "null")
      .map((match) => [match[1], match[2]]),
  );
  return indexAccessForContainer(process.env, parsePipConfigList(pip.status === 0 ? pip.stdout : ""), npmValues);
}

/** Where the deb of `debianVersion` is kept once built. */
export function debArtifactPath(outDir: string, debianVersion: string): string {
  return join(outDir, debianVersion, `${PACKAGE_NAME}_${debianVersion}_${ARCHITECTURE}.deb`);
}

/** Builds the deb. Progress goes to `log`; a failure throws with the build's last lines. */
export async function buildDeb(request: DebBuildRequest, log: (line: string) => void = () => {}): Promise<DebArtifact> {
  const artifactDir = join(request.outDir, request.debianVersion);
  mkdirSync(artifactDir, { recursive: true });
  const work = mkdtempSync(join(request.outDir, ".work-"));
  try {
    const tree = join(work, "src");
    mkdirSync(tree);
    log(`exporting tree ${request.treeId.slice(0, 12)} of ${request.source}`);
    const archive = join(work, "src.tar");
    // The tree the plan fingerprinted, made again (its new objects were never kept in the checkout).
    withWorkingTree(request.source, (treeId, env) => {
      if (treeId !== request.treeId)
        throw new DebBuildError(
          `the Ralph checkout ${request.source} changed after the plan (its tree is now ${treeId.slice(0, 12)}, the plan's ${request.treeId.slice(0, 12)}): run again to build what it holds now`,
        );
      gitWithEnv(request.source, env, "archive", "--format=tar", `--output=${archive}`, treeId);
    });
    const untar = await runStep({ kind: "host" }, ["tar", "-xf", archive, "-C", tree], { cwd: work });
    if (untar.status !== 0) throw new DebBuildError(`could not unpack the Ralph tree:\n${tail(untar.output)}`);
    if (request.frontendAssets) {
      log(`laying pre-built front-end assets from ${request.frontendAssets} over the tree`);
      cpSync(request.frontendAssets, tree, { recursive: true });
    }
    // Ralph's setup.py asks get_version.sh, which reads git metadata an export does not carry: in the
    // export it answers with the version this pipeline worked out, by the same rules.
    const versionScript = join(tree, "get_version.sh");
    if (existsSync(versionScript)) {
      writeFileSync(versionScript, `#!/bin/sh\necho '${request.version ?? request.debianVersion}'\n`);
      // writeFileSync's mode applies only to new files: setup.py runs this one.
      chmodSync(versionScript, 0o755);
    }
    // This project owns the recipes: a debian/ in the Ralph tree is replaced, not merged.
    rmSync(join(tree, "debian"), { recursive: true, force: true });
    prepareDebianDir(request, join(tree, "debian"));

    // In a container, pip and npm reach their indexes the way this machine does.
    const access: IndexAccess = request.builderImage ? hostIndexAccess() : { env: {}, files: [] };
    const path = debArtifactPath(request.outDir, request.debianVersion);
    const fileName = basename(path);
    // The tree goes in and the deb comes out by copy: the engine may not share this machine's files.
    const runner: Runner = request.builderImage
      ? {
          kind: "container",
          image: request.builderImage,
          copyIn: [{ host: tree, container: "/build/src" }, ...access.files],
          copyOut: [{ container: `/build/${fileName}`, host: work }],
          asRoot: true,
        }
      : { kind: "host" };
    const cwd = runner.kind === "host" ? tree : "/build/src";
    const commitTime = git(request.source, "show", "-s", "--format=%ct", request.commit);
    log(
      `dpkg-buildpackage ${request.debianVersion} (${runner.kind === "host" ? "on this machine" : `in ${request.builderImage}`})`,
    );
    const logPath = join(artifactDir, "build.log");
    const result = await runStep(runner, ["dpkg-buildpackage", "-us", "-uc", "-b"], {
      cwd,
      env: {
        ...access.env,
        RALPH_PIP_ARGS: request.pipArgs.join(" "),
        RALPH_PIP_VERSION: request.pipVersion ?? "",
        RALPH_FRONTEND: request.frontendAssets ? "prebuilt" : "build",
        SOURCE_DATE_EPOCH: commitTime,
        DEB_BUILD_OPTIONS: "nocheck",
        // pip and npm want a writable home; the container's user may have none.
        HOME: runner.kind === "host" ? (process.env.HOME ?? work) : "/build",
      },
    });
    writeFileSync(logPath, result.output);
    if (result.status !== 0) {
      throw new DebBuildError(
        `${explainPipFailure(result.output)?.concat("\n") ?? ""}dpkg-buildpackage failed (exit ${result.status}); full log: ${logPath}\n${tail(result.output)}`,
      );
    }
    const built = join(work, fileName);
    const sha256 = await sha256File(built);
    if (request.keepExisting && existsSync(path)) {
      const existing = await sha256File(path);
      if (existing !== sha256) {
        throw new DebBuildError(
          `${path} already exists with sha256 ${existing}, and this build of the same version differs (${sha256}). ` +
            "A release's deb is never overwritten: move the old file away deliberately, or release a new version.",
        );
      }
    }
    renameSync(built, path);
    const checksumsPath = join(artifactDir, "SHA256SUMS");
    writeFileSync(checksumsPath, `${sha256}  ${fileName}\n`);
    log(`built ${path} (sha256 ${sha256})`);
    return {
      path,
      fileName,
      packageName: PACKAGE_NAME,
      version: request.debianVersion,
      architecture: ARCHITECTURE,
      size: statSync(path).size,
      sha256,
      checksumsPath,
      buildLog: logPath,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
