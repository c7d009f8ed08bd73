/**
 * Ralph's version rules, on a real git checkout.
 *
 * A release is a tag `YYYYMMDD.PATCH`; the patch starts at 1 and grows with each further release that
 * day. Any other checkout is a snapshot of the coming release:
 * `<next release>-<branch, every non-alphanumeric as '-'>-SNAPSHOT`.
 */
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import * as semver from "semver";
import { UserError } from "../errors";
import { git, lines, tryGit } from "./git";

export class VersionError extends UserError {}

export type Mode = "release" | "snapshot";

export interface ReleaseVersion {
  /** The tag as written, e.g. `20240315.2`. */
  readonly text: string;
  /** `YYYYMMDD`. */
  readonly date: string;
  readonly patch: number;
}

// The version is also the images' tag: https://docs.docker.com/reference/cli/docker/image/tag/
const DOCKER_TAG_MAX = 128;

const RELEASE_TAG = /^(\d{4})(\d{2})(\d{2})\.([1-9]\d*)$/;

/** Parses a release tag; anything that is not `YYYYMMDD.PATCH` with a real calendar date is not one. */
export function parseReleaseTag(tag: string): ReleaseVersion | undefined {
  const match = RELEASE_TAG.exec(tag);
  if (!match) return undefined;
  const [, year, month, day, patch] = match;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined;
  return { text: tag, date: `${year}${month}${day}`, patch: Number(patch) };
}

/** Orders releases by date, then patch (semver does the numeric comparison). */
export function compareReleases(a: ReleaseVersion, b: ReleaseVersion): number {
  return semver.compare(`${a.date}.${a.patch}.0`, `${b.date}.${b.patch}.0`);
}

function latest(releases: readonly ReleaseVersion[]): ReleaseVersion | undefined {
  return [...releases].sort(compareReleases).at(-1);
}

/** `YYYYMMDD` of the given instant in UTC, so every machine agrees whatever its time zone. */
export function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10).replaceAll("-", "");
}

/**
 * The release after `latestReachable` on day `today`: same day → patch + 1, else `today.1`.
 *
 * `taken` are all release tags in the repository: a branch that forked before today's release must
 * not be told to reuse its number. A latest tag dated after today (tagged from a machine ahead of
 * UTC, as Ralph's old local-time script did) is continued rather than undercut, so versions only grow.
 */
export function nextRelease(
  latestReachable: ReleaseVersion | undefined,
  today: string,
  taken: readonly ReleaseVersion[] = [],
): string {
  const date = latestReachable && latestReachable.date > today ? latestReachable.date : today;
  const sameDay = [...taken, ...(latestReachable ? [latestReachable] : [])].filter((r) => r.date === date);
  const patch = Math.max(0, ...sameDay.map((r) => r.patch)) + 1;
  return `${date}.${patch}`;
}

/** Ralph's branch rule: every character that is not an ASCII letter or digit becomes '-'. */
export function sanitizeBranch(branch: string): string {
  return branch.replace(/[^A-Za-z0-9]/g, "-");
}

/**
 * The snapshot stack of a branch: one per branch, so that one branch's run never replaces, yanks or
 * locks another's. Named as the snapshot's version names the branch (non-alphanumerics as '-'), so
 * branches whose artifacts share names share a stack; at most Pulumi's 100 characters, a longer name
 * cut and told apart by a digest of the branch.
 */
export function snapshotStackName(branch: string): string {
  // The branch as the snapshot's version spells it: one stack per set of artifact names.
  const name = `snapshot-${sanitizeBranch(branch)}`;
  if (name.length <= STACK_NAME_MAX) return name;
  const digest = createHash("sha256").update(branch).digest("hex").slice(0, 8);
  return `${name.slice(0, STACK_NAME_MAX - digest.length - 1)}-${digest}`;
}

/** Pulumi's limit on a stack name. */
const STACK_NAME_MAX = 100;

/** Everything the pipeline needs to know about the checkout's version. */
export interface CheckoutVersion {
  /** Ralph's version string: the tag for a release, `<next>-<branch>-SNAPSHOT` otherwise. Docker tags use it. */
  readonly version: string;
  readonly mode: Mode;
  /** The version for the .deb: sorts below `next` and above every earlier release under dpkg. */
  readonly debianVersion: string;
  /** The release this checkout would become (for a release: itself). */
  readonly next: string;
  /** The newest release tag reachable from HEAD. */
  readonly latestRelease: string;
  /** Commits since `latestRelease`. */
  readonly commitsSinceRelease: number;
  /** Full commit id of HEAD. */
  readonly commit: string;
  /** HEAD's committer date, ISO 8601: images' `created` label, so rebuilds of a commit agree. */
  readonly commitTime: string;
  /** Current branch; undefined for a detached HEAD. */
  readonly branch?: string;
  /** The newest release tag on HEAD itself, if any, whether or not it makes this a release. */
  readonly tagAtHead?: string;
  /** The main-branch ref that contains HEAD, if one does. */
  readonly mainBranchRef?: string;
  /** The newest release tag the main branch contains (local or remote-tracking), if any. */
  readonly newestOnMain?: string;
  /** Files `git status` reports as changed or untracked (ignored files excluded). */
  readonly dirtyFiles: readonly string[];
}

export interface VersionOptions {
  /** The Ralph git checkout. */
  readonly source: string;
  /** Ralph's main branch; releases are tags reachable from it. Default `ng`. */
  readonly mainBranch?: string;
  /** Injectable clock; the date is taken in UTC. */
  readonly now?: () => Date;
}

interface RepoFacts {
  commit: string;
  commitTime: string;
  reachable: ReleaseVersion[];
  all: ReleaseVersion[];
  /** Release tags on HEAD itself. */
  atHead: ReleaseVersion[];
}

function inspect(source: string): RepoFacts {
  if (!existsSync(source)) {
    throw new VersionError(
      `${source} does not exist. Clone Ralph there (\`git clone https://github.com/allegro/ralph ${source}\`), or point --source (or config key ralph-release:source) at a clone of Ralph.`,
    );
  }
  // Few processes: each answer git can give in one call is asked in one.
  const [inside, toplevel, shallow] = (
    tryGit(source, "rev-parse", "--is-inside-work-tree", "--show-toplevel", "--is-shallow-repository") ?? ""
  ).split("\n");
  if (inside !== "true") {
    throw new VersionError(
      `${source} is not a git checkout. Point --source (or config key ralph-release:source) at a clone of Ralph.`,
    );
  }
  // A directory inside a checkout is not Ralph's tree: its version and files would be the outer repository's.
  if (realpathSync(toplevel) !== realpathSync(source)) {
    throw new VersionError(
      `${source} is inside the git checkout ${toplevel}, not the top of one. Point --source (or config key ` +
        "ralph-release:source) at the clone of Ralph itself.",
    );
  }
  const [commit, commitTime] = (tryGit(source, "log", "-1", "--format=%H%n%cI", "HEAD") ?? "").split("\n");
  if (!commit) throw new VersionError(`${source} has no commits yet; there is nothing to version.`);
  if (shallow === "true") {
    throw new VersionError(
      `${source} is a shallow clone: release tags and their history are missing, so the version cannot be ` +
        "worked out. Fetch them with `git fetch --unshallow --tags` (GitHub Actions: actions/checkout with " +
        "`fetch-depth: 0`).",
    );
  }
  // Every tag with the commit it names (an annotated tag's peeled, a lightweight one's own).
  const tags = lines(
    git(source, "for-each-ref", "--format=%(refname:strip=2) %(*objectname) %(objectname)", "refs/tags"),
  )
    .map((line) => line.split(" "))
    .map(([name, peeled, own]) => ({ name, commit: peeled || own }));
  const all = tags.flatMap((tag) => parseReleaseTag(tag.name) ?? []);
  const atHead = tags.filter((tag) => tag.commit === commit).flatMap((tag) => parseReleaseTag(tag.name) ?? []);
  const reachable = lines(git(source, "tag", "--merged", "HEAD")).flatMap((tag) => parseReleaseTag(tag) ?? []);
  if (reachable.length === 0) {
    const elsewhere = all.length > 0 ? ` (the repository has ${all.length} on other branches)` : "";
    throw new VersionError(
      `no release tag (YYYYMMDD.PATCH) is reachable from HEAD ${commit.slice(0, 12)} in ${source}${elsewhere}. ` +
        "Fetch Ralph's tags with `git fetch --tags origin`; a checkout without them has no version.",
    );
  }
  return { commit, commitTime, reachable, all, atHead };
}

function today(options: VersionOptions): string {
  return utcDate((options.now ?? (() => new Date()))());
}

/** `generate`: the next release version for the checkout. */
export function generateVersion(options: VersionOptions): string {
  const facts = inspect(options.source);
  return nextRelease(latest(facts.reachable), today(options), facts.all);
}

/** Refs that stand for the main branch: the local branch, or a remote-tracking one (CI checkouts). */
function mainBranchRefs(source: string, mainBranch: string): string[] {
  return lines(
    git(source, "for-each-ref", "--format=%(refname)", `refs/heads/${mainBranch}`, `refs/remotes/*/${mainBranch}`),
  ).filter((ref) => ref === `refs/heads/${mainBranch}` || ref.endsWith(`/${mainBranch}`));
}

/**
 * `show`: the checkout's version. A release when HEAD carries a release tag and either the current
 * branch is the main branch (Ralph's rule) or HEAD is detached on a commit the main branch contains
 * (how CI checks out tags). Everything else is a snapshot.
 */
export function showVersion(options: VersionOptions): CheckoutVersion {
  const { source } = options;
  const mainBranch = options.mainBranch ?? "ng";
  const facts = inspect(source);
  const latestRelease = latest(facts.reachable) as ReleaseVersion;
  const branch = tryGit(source, "symbolic-ref", "--quiet", "--short", "HEAD");
  const tagAtHead = latest(facts.atHead)?.text;
  const mainRefs = mainBranchRefs(source, mainBranch);
  const mainBranchRef = mainRefs.find(
    (ref) => tryGit(source, "merge-base", "--is-ancestor", "HEAD", ref) !== undefined,
  );
  const newestOnMain = latest(
    mainRefs.flatMap((ref) => lines(git(source, "tag", "--merged", ref)).flatMap((t) => parseReleaseTag(t) ?? [])),
  )?.text;
  const dirtyFiles = lines(git(source, "status", "--porcelain", "--untracked-files=all")).map((l) => l.slice(3));
  const commitsSinceRelease = Number(git(source, "rev-list", "--count", `${latestRelease.text}..HEAD`));

  const isRelease =
    tagAtHead !== undefined && (branch === undefined ? mainBranchRef !== undefined : branch === mainBranch);
  const common = {
    commitTime: facts.commitTime,
    latestRelease: latestRelease.text,
    commitsSinceRelease,
    commit: facts.commit,
    branch,
    tagAtHead,
    mainBranchRef,
    newestOnMain,
    dirtyFiles,
  };
  if (isRelease) {
    return { ...common, version: tagAtHead, mode: "release", debianVersion: tagAtHead, next: tagAtHead };
  }
  const next = nextRelease(latestRelease, today(options), facts.all);
  // Detached HEAD reads as "HEAD", as `git rev-parse --abbrev-ref HEAD` did in Ralph's script.
  const branchPart = sanitizeBranch(branch ?? "HEAD");
  const version = `${next}-${branchPart}-SNAPSHOT`;
  if (version.length > DOCKER_TAG_MAX) {
    throw new VersionError(
      `snapshot version ${version} is ${version.length} characters; Docker tags hold at most ${DOCKER_TAG_MAX}. ` +
        `Build from a branch with a name of at most ${DOCKER_TAG_MAX - version.length + branchPart.length} characters.`,
    );
  }
  return {
    ...common,
    version,
    mode: "snapshot",
    debianVersion: snapshotDebianVersion(next, branchPart, commitsSinceRelease),
    next,
  };
}

/**
 * Debian form of a snapshot: `~` sorts before everything, so `<next>~…` is below `<next>` and, its
 * numeric prefix being larger, above every earlier release. The commit count makes later snapshots
 * of a branch upgrade earlier ones. No '-': the upstream part of a native version cannot hold one.
 */
export function snapshotDebianVersion(next: string, sanitizedBranch: string, commitsSinceRelease: number): string {
  return `${next}~${sanitizedBranch.replaceAll("-", ".")}.SNAPSHOT.${commitsSinceRelease}`.replace(/\.{2,}/g, ".");
}

/** The first few of `files`, and how many more: enough to recognise a dirty tree in one line. */
export function listFiles(files: readonly string[]): string {
  const more = files.length > 5 ? ` and ${files.length - 5} more` : "";
  return `${files.slice(0, 5).join(", ")}${more}`;
}

/**
 * Why this checkout may not be published as a release, or undefined when it may. The rule: HEAD is a
 * release tag reachable from the main branch and the working tree is clean.
 */
export function releaseRefusal(checkout: CheckoutVersion, mainBranch: string): string | undefined {
  const where = `HEAD ${checkout.commit.slice(0, 12)} (${checkout.branch ? `branch ${checkout.branch}` : "detached"})`;
  const rule = `The release stack publishes only a release tag (YYYYMMDD.PATCH) reachable from the main branch '${mainBranch}', from a clean working tree.`;
  if (checkout.tagAtHead === undefined) {
    return `${where} carries no release tag. ${rule} Check out a release tag (e.g. \`git checkout ${checkout.latestRelease}\`), tag the next one with \`npm run release-new-version\`, or use the snapshot stack.`;
  }
  if (checkout.mode !== "release") {
    return checkout.mainBranchRef === undefined
      ? `${where} is tagged ${checkout.tagAtHead}, but no branch '${mainBranch}' (local or remote-tracking) contains it. ${rule} Fetch the main branch (\`git fetch origin ${mainBranch}\`) or set ralph-release:mainBranch.`
      : `${where} is tagged ${checkout.tagAtHead} but is on branch ${checkout.branch}, not '${mainBranch}'. ${rule} Run \`git checkout ${checkout.tagAtHead}\` or \`git checkout ${mainBranch}\`.`;
  }
  if (checkout.dirtyFiles.length > 0) {
    return `${where} (${checkout.tagAtHead}) has uncommitted changes: ${listFiles(checkout.dirtyFiles)}. ${rule} Commit, stash or remove them.`;
  }
  return undefined;
}

/**
 * The checkout's version for a stack of the given mode. A release stack refuses any checkout that
 * breaks the release rule, so nothing is declared, built or published from it.
 */
export function checkoutForMode(mode: Mode, options: VersionOptions): CheckoutVersion {
  const checkout = showVersion(options);
  if (mode === "release") {
    const refusal = releaseRefusal(checkout, options.mainBranch ?? "ng");
    if (refusal) throw new VersionError(`The release stack refuses this checkout: ${refusal}`);
  }
  return checkout;
}
