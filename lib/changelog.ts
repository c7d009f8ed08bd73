/**
 * debian/changelog, derived from git at build time rather than committed: one entry for the version
 * being built, listing the commits since the previous release. Same commit → same file.
 */
import { git, lines } from "./git";
import { compareReleases, parseReleaseTag } from "./version";

export interface ChangelogRequest {
  readonly source: string;
  /** Commit being packaged. */
  readonly commit: string;
  readonly debianVersion: string;
  /** Distribution codename for the entry (e.g. jammy). */
  readonly codename: string;
  /** `Name <email>`, from debian/control. */
  readonly maintainer: string;
}

/** The newest release tag reachable from `commit` that is not on `commit` itself. */
export function previousRelease(source: string, commit: string): string | undefined {
  const onCommit = new Set(lines(git(source, "tag", "--points-at", commit)));
  const releases = lines(git(source, "tag", "--merged", commit))
    .filter((tag) => !onCommit.has(tag))
    .flatMap((tag) => parseReleaseTag(tag) ?? []);
  return releases.sort(compareReleases).at(-1)?.text;
}

/** What changed since the previous release: its tag, and the subjects of the commits after it. */
export interface Changes {
  readonly previous?: string;
  readonly subjects: readonly string[];
}

export function changesSince(source: string, commit: string): Changes {
  const previous = previousRelease(source, commit);
  const range = previous ? `${previous}..${commit}` : commit;
  const subjects = lines(git(source, "log", "--no-merges", "--format=%s", range)).map((subject) =>
    subject.replace(/\s+/g, " ").trim(),
  );
  return { previous, subjects };
}

export function renderChangelog(request: ChangelogRequest): string {
  const { source, commit } = request;
  const { subjects } = changesSince(source, commit);
  // The commit's own date, not the clock: rebuilding the same commit gives the same file.
  const date = git(source, "show", "-s", "--format=%cD", commit);
  const items = subjects.length > 0 ? subjects : [`Rebuild of ${commit.slice(0, 12)}.`];
  const body = items.map((subject) => `  * ${subject}`).join("\n");
  return (
    `ralph-core (${request.debianVersion}) ${request.codename}; urgency=medium\n\n` +
    `${body}\n\n -- ${request.maintainer}  ${date}\n`
  );
}
