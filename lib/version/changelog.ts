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
  return { previous, subjects: subjectsOf(source, range) };
}

function entry(version: string, codename: string, maintainer: string, date: string, subjects: readonly string[]) {
  const body = subjects.map((subject) => `  * ${subject}`).join("\n");
  return `ralph-core (${version}) ${codename}; urgency=medium\n\n${body}\n\n -- ${maintainer}  ${date}\n`;
}

const subjectsOf = (source: string, range: string) =>
  lines(git(source, "log", "--no-merges", "--format=%s", range)).map((subject) => subject.replace(/\s+/g, " ").trim());

/**
 * The whole changelog: the version being built (the commits since the previous release), then every
 * earlier release reachable from the commit, newest first, each with the commits since the one
 * before it and the date of its own commit.
 */
/** RFC 2822, in UTC, as debian/changelog wants it. */
const changelogDate = (epochSeconds: number) => new Date(epochSeconds * 1000).toUTCString().replace("GMT", "+0000");

export function renderChangelog(request: ChangelogRequest): string {
  const { source, commit, codename, maintainer } = request;
  const { previous, subjects } = changesSince(source, commit);
  const releaseEntries: { version: string; epoch: number; subjects: string[] }[] = [];
  if (previous) {
    const onCommit = new Set(lines(git(source, "tag", "--points-at", commit)));
    const releases = lines(git(source, "tag", "--merged", commit))
      .filter((tag) => !onCommit.has(tag))
      .flatMap((tag) => parseReleaseTag(tag) ?? [])
      .sort(compareReleases)
      .reverse();
    // One git call each for every tag's commit and every commit's date, not two per release.
    const commitOfTag = new Map(
      lines(git(source, "for-each-ref", "--format=%(refname:short) %(*objectname) %(objectname)", "refs/tags")).map(
        (line) => {
          const [tag, peeled, object] = line.split(" ");
          return [tag, peeled || object] as const;
        },
      ),
    );
    const commits = releases.map((release) => commitOfTag.get(release.text) as string);
    const epochs = new Map(
      lines(git(source, "log", "--no-walk=unsorted", "--format=%H %ct", ...commits)).map(
        (line) => [line.slice(0, 40), Number(line.slice(41))] as const,
      ),
    );
    releases.forEach((release, i) => {
      const before = releases[i + 1];
      const releaseSubjects = before ? subjectsOf(source, `${before.text}..${release.text}`) : [];
      releaseEntries.push({
        version: release.text,
        epoch: epochs.get(commits[i]) as number,
        subjects: releaseSubjects.length > 0 ? releaseSubjects : [`Release ${release.text}.`],
      });
    });
  }
  // The commit's own date, not the clock: rebuilding the same commit gives the same file. Debian wants
  // the newest entry strictly later than the one before (commits of one second would tie).
  const epoch = Math.max(
    Number(git(source, "show", "-s", "--format=%ct", commit)),
    (releaseEntries[0]?.epoch ?? 0) + 1,
  );
  const current = subjects.length > 0 ? subjects : [`Rebuild of ${commit.slice(0, 12)}.`];
  return [
    entry(request.debianVersion, codename, maintainer, changelogDate(epoch), current),
    ...releaseEntries.map((e) => entry(e.version, codename, maintainer, changelogDate(e.epoch), e.subjects)),
  ].join("\n");
}
