import { execFileSync, spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateVersion,
  nextRelease,
  parseReleaseTag,
  releaseRefusal,
  sanitizeBranch,
  showVersion,
  snapshotStackName,
  VersionError,
} from "../../../lib/version/version";
import { GitRepo, removeTempDirs, tempDir } from "../../support/gitRepo";
import { BUNDLE_RELEASE, cloneRalph } from "../../support/ralphBundle";

const at = (iso: string) => () => new Date(iso);
const NOV_24 = at("2024-11-24T09:00:00Z");

/**
 * Ralph's history across four days: two releases on the 21st, non-release tags mixed in, a feature
 * branch, and work on `ng` after the last release.
 */
function ralphHistory() {
  const repo = GitRepo.init();
  repo.commit("initial");
  repo.tag("20241120.1");
  repo.commit("fix importer");
  repo.tag("20241121.1");
  repo.commit("fix importer again");
  repo.tag("20241121.2");
  repo.tag("v3.0", { lightweight: true });
  repo.commit("dc view");
  const release23 = repo.git("rev-parse", "HEAD");
  repo.tag("20241123.1");
  repo.tag("20241199.1"); // not a date: ignored
  repo.tag("20241123.7-rc", { lightweight: true }); // not a release: ignored
  repo.commit("work after the release");
  repo.git("branch", "feature/ABC_12");
  return { repo, release23 };
}

describe("parseReleaseTag", () => {
  it("accepts YYYYMMDD.PATCH with a real date", () => {
    expect(parseReleaseTag("20240315.2")).toEqual({ text: "20240315.2", date: "20240315", patch: 2 });
    expect(parseReleaseTag("20240229.1")?.date).toBe("20240229");
  });

  it.each([
    "v1.0",
    "20240315",
    "20240315.0",
    "20240315.01",
    "20241301.1",
    "20230229.1",
    "20240315.1-rc",
    " 20240315.1",
  ])("ignores %s", (tag) => expect(parseReleaseTag(tag)).toBeUndefined());
});

describe("nextRelease", () => {
  const r = (tag: string) => parseReleaseTag(tag) ?? expect.fail(tag);

  it("starts a new day at patch 1 and counts up within a day", () => {
    expect(nextRelease(r("20241121.2"), "20241124")).toBe("20241124.1");
    expect(nextRelease(r("20241124.1"), "20241124")).toBe("20241124.2");
    expect(nextRelease(r("20241124.9"), "20241124")).toBe("20241124.10");
  });

  it("does not reuse a number already tagged today on another branch", () => {
    expect(nextRelease(r("20241121.2"), "20241124", [r("20241124.1"), r("20241124.2")])).toBe("20241124.3");
  });

  it("continues a latest tag dated after today instead of sorting below it", () => {
    expect(nextRelease(r("20241125.1"), "20241124")).toBe("20241125.2");
  });
});

describe("sanitizeBranch", () => {
  it("replaces every non-alphanumeric character with '-', one for one", () => {
    expect(sanitizeBranch("feature/ABC_12")).toBe("feature-ABC-12");
    expect(sanitizeBranch("fix/ünïcode..x")).toBe("fix--n-code--x");
  });
});

describe("snapshotStackName", () => {
  it("names a branch's own stack as its version names the branch, within Pulumi's 100 characters", () => {
    expect(snapshotStackName("feature/ABC_12")).toBe(`snapshot-${sanitizeBranch("feature/ABC_12")}`);
    expect(snapshotStackName("feature/ABC_12")).toBe("snapshot-feature-ABC-12");
    expect(snapshotStackName("HEAD")).toBe("snapshot-HEAD");
    const long = (suffix: string) => snapshotStackName(`feature/${"x".repeat(120)}${suffix}`);
    expect(long("1")).toHaveLength(100);
    expect(long("1")).toMatch(/^snapshot-feature-x+-[0-9a-f]{8}$/);
    expect(long("1")).not.toBe(long("2"));
  });
});

describe("version rules on a real checkout", () => {
  let repo: GitRepo;
  let release23: string;
  beforeAll(() => ({ repo, release23 } = ralphHistory()));
  afterAll(removeTempDirs);

  it("generate: a new day starts at .1; the same day counts up", () => {
    expect(generateVersion({ source: repo.dir, now: NOV_24 })).toBe("20241124.1");
    expect(generateVersion({ source: repo.dir, now: at("2024-11-23T23:59:59Z") })).toBe("20241123.2");
  });

  it("generate: takes the date in UTC, not the machine's zone", () => {
    // 00:30 in Warsaw is still the 23rd in UTC.
    expect(generateVersion({ source: repo.dir, now: at("2024-11-24T00:30:00+01:00") })).toBe("20241123.2");
  });

  it("show: untagged main-branch commit is a snapshot of the next release", () => {
    repo.checkout("ng");
    const v = showVersion({ source: repo.dir, now: NOV_24 });
    expect(v).toMatchObject({
      version: "20241124.1-ng-SNAPSHOT",
      mode: "snapshot",
      next: "20241124.1",
      latestRelease: "20241123.1",
      commitsSinceRelease: 1,
    });
  });

  it("show: feature/ABC_12 gets its sanitized name", () => {
    repo.checkout("feature/ABC_12");
    expect(showVersion({ source: repo.dir, now: NOV_24 }).version).toBe("20241124.1-feature-ABC-12-SNAPSHOT");
  });

  it("show: the main branch on a release tag is that release", () => {
    repo.checkout("-B", "ng", release23);
    const v = showVersion({ source: repo.dir, now: NOV_24 });
    expect(v).toMatchObject({ version: "20241123.1", mode: "release", debianVersion: "20241123.1", branch: "ng" });
    expect(releaseRefusal(v, "ng")).toBeUndefined();
    repo.git("reset", "--quiet", "--hard", "feature/ABC_12");
  });

  it("show: a detached HEAD on a tag the main branch contains is a release (Ralph's script said snapshot)", () => {
    repo.checkout("--detach", "20241121.2");
    const v = showVersion({ source: repo.dir, now: NOV_24 });
    expect(v).toMatchObject({
      version: "20241121.2",
      mode: "release",
      branch: undefined,
      mainBranchRef: "refs/heads/ng",
    });
  });

  it("show: a detached HEAD off any tag reads as branch HEAD, as in Ralph's script", () => {
    repo.checkout("--detach", "ng~1");
    repo.commit("detached work");
    expect(showVersion({ source: repo.dir, now: NOV_24 }).version).toBe("20241124.1-HEAD-SNAPSHOT");
  });

  it("show: another branch sitting on a tagged commit stays a snapshot (Ralph's rule)", () => {
    repo.checkout("-B", "hotfix/x", "20241123.1");
    const v = showVersion({ source: repo.dir, now: NOV_24 });
    expect(v).toMatchObject({ version: "20241124.1-hotfix-x-SNAPSHOT", mode: "snapshot", tagAtHead: "20241123.1" });
    expect(releaseRefusal(v, "ng")).toMatch(/on branch hotfix\/x, not 'ng'.*git checkout 20241123\.1/);
  });

  it("show: a non-release tag on HEAD does not make a release", () => {
    repo.checkout("ng");
    repo.tag("nightly", { lightweight: true });
    expect(showVersion({ source: repo.dir, now: NOV_24 }).mode).toBe("snapshot");
  });

  it("show: honours another main branch name", () => {
    repo.checkout("--detach", "20241121.2");
    const v = showVersion({ source: repo.dir, now: NOV_24, mainBranch: "master" });
    expect(v.mode).toBe("snapshot");
    expect(releaseRefusal(v, "master")).toMatch(/no branch 'master'.*contains it.*git fetch origin master/);
  });
});

describe("checkouts the way CI makes them", () => {
  afterAll(removeTempDirs);

  it("a clone of a tag (detached, main branch only remote-tracking) is a release", () => {
    const { repo } = ralphHistory();
    const clone = GitRepo.clone(repo, "--branch", "20241123.1");
    const v = showVersion({ source: clone.dir, now: NOV_24 });
    expect(v).toMatchObject({ version: "20241123.1", mode: "release", mainBranchRef: "refs/remotes/origin/ng" });
  });

  it("a tag on a branch never merged to ng is not releasable, and the message names commit and rule", () => {
    const { repo } = ralphHistory();
    repo.checkout("-b", "experiment", "20241121.1");
    const commit = repo.commit("experiment");
    repo.tag("20241122.1");
    repo.checkout("--detach", "20241122.1");
    const v = showVersion({ source: repo.dir, now: NOV_24 });
    expect(v.mode).toBe("snapshot");
    expect(v.version).toBe("20241124.1-HEAD-SNAPSHOT");
    const refusal = releaseRefusal(v, "ng");
    expect(refusal).toContain(commit.slice(0, 12));
    expect(refusal).toContain("reachable from the main branch 'ng'");
  });

  it("a shallow clone is refused with what to fetch", () => {
    const { repo } = ralphHistory();
    const clone = GitRepo.clone(repo, "--depth", "1");
    expect(() => showVersion({ source: clone.dir })).toThrow(VersionError);
    expect(() => generateVersion({ source: clone.dir })).toThrow(
      /shallow clone.*git fetch --unshallow --tags.*fetch-depth: 0/,
    );
  });

  it("a checkout without release tags is refused with what to fetch, naming ignored tags' absence", () => {
    const repo = GitRepo.init();
    repo.commit("initial");
    repo.tag("v1.0");
    expect(() => showVersion({ source: repo.dir })).toThrow(
      /no release tag \(YYYYMMDD\.PATCH\) is reachable from HEAD.*git fetch --tags origin/,
    );
  });

  it("release tags only on other branches are mentioned", () => {
    const repo = GitRepo.init();
    repo.commit("initial");
    repo.checkout("-b", "other");
    repo.commit("other");
    repo.tag("20241101.1");
    repo.checkout("ng");
    expect(() => generateVersion({ source: repo.dir })).toThrow(/has 1 on other branches/);
  });

  it("a directory that is not a checkout, and an empty repository, are named", () => {
    const dir = tempDir();
    expect(() => showVersion({ source: dir })).toThrow(`${dir} is not a git checkout`);
    const empty = GitRepo.init();
    expect(() => showVersion({ source: empty.dir })).toThrow(/has no commits yet/);
    // A directory inside a checkout is not the checkout: its version would be the outer repository's.
    const repo = GitRepo.init();
    repo.commit("initial", "src/ralph/__init__.py");
    expect(() => showVersion({ source: join(repo.dir, "src") })).toThrow(
      `${join(repo.dir, "src")} is inside the git checkout ${realpathSync(repo.dir)}, not the top of one.`,
    );
  });

  it("a dirty release checkout is still its version but refused for release, listing the files", () => {
    const { repo } = ralphHistory();
    repo.checkout("--detach", "20241123.1");
    repo.write("src/ralph/__init__.py", "# edited\n");
    repo.write("notes.txt", "untracked\n");
    const v = showVersion({ source: repo.dir, now: NOV_24 });
    expect(v.mode).toBe("release");
    expect(v.dirtyFiles).toEqual(["src/ralph/__init__.py", "notes.txt"]);
    expect(releaseRefusal(v, "ng")).toMatch(
      /uncommitted changes: src\/ralph\/__init__\.py, notes\.txt\. .*Commit, stash or remove them/,
    );
  });
});

describe("Debian versions of snapshots", () => {
  afterAll(removeTempDirs);
  const dpkgSays = (a: string, op: "lt" | "gt", b: string) => {
    try {
      execFileSync("dpkg", ["--compare-versions", a, op, b], { stdio: "pipe" });
      return true;
    } catch {
      return false;
    }
  };

  it.each(["feature/ABC_12", "ng", "x--y_", "2fast", "UPPER/lower"])(
    "a snapshot of %s sorts above the previous release and below the next, growing with commits",
    (branch) => {
      const { repo } = ralphHistory();
      repo.checkout("-B", branch);
      const first = showVersion({ source: repo.dir, now: NOV_24 });
      repo.commit("one more");
      const second = showVersion({ source: repo.dir, now: NOV_24 });
      expect(first.debianVersion).toMatch(/^[0-9][A-Za-z0-9.+~]*$/);
      expect(dpkgSays(first.debianVersion, "gt", "20241123.1")).toBe(true);
      expect(dpkgSays(first.debianVersion, "lt", "20241124.1")).toBe(true);
      expect(dpkgSays(second.debianVersion, "gt", first.debianVersion)).toBe(true);
      expect(dpkgSays(second.debianVersion, "lt", second.next)).toBe(true);
      expect(second.version).toMatch(/^20241124\.1-.+-SNAPSHOT$/);
    },
  );

  it("a same-day snapshot sorts between that day's releases", () => {
    const { repo } = ralphHistory();
    repo.checkout("--detach", "20241121.1");
    repo.commit("after the first release of the day");
    const v = showVersion({ source: repo.dir, now: at("2024-11-21T18:00:00Z") });
    expect(v.next).toBe("20241121.3"); // 20241121.2 is already taken on ng
    expect(dpkgSays(v.debianVersion, "gt", "20241121.2")).toBe(true);
    expect(dpkgSays(v.debianVersion, "lt", "20241121.3")).toBe(true);
  });
});

describe("versions that must double as Docker tags", () => {
  afterAll(removeTempDirs);

  it("refuses a branch name too long for a Docker tag, saying how long it may be", () => {
    const { repo } = ralphHistory();
    repo.checkout("-b", `feature/${"x".repeat(120)}`);
    expect(() => showVersion({ source: repo.dir, now: NOV_24 })).toThrow(
      /is 148 characters; Docker tags hold at most 128\. Build from a branch with a name of at most 108 characters/,
    );
  });
});

describe("on Ralph's real history (the bundle)", () => {
  let ralph: GitRepo;
  beforeAll(() => {
    ralph = cloneRalph();
  }, 120_000);

  it("show: ng at its release tag is that release", () => {
    expect(showVersion({ source: ralph.dir, now: NOV_24 })).toMatchObject({
      version: BUNDLE_RELEASE,
      mode: "release",
      debianVersion: BUNDLE_RELEASE,
      latestRelease: BUNDLE_RELEASE,
      branch: "ng",
      commitsSinceRelease: 0,
    });
  });

  it("generate: the same day's next patch, or the next day's first", () => {
    expect(generateVersion({ source: ralph.dir, now: at("2024-10-23T18:00:00Z") })).toBe("20241023.2");
    expect(generateVersion({ source: ralph.dir, now: NOV_24 })).toBe("20241124.1");
  });

  it("a feature branch off ng is a snapshot that sorts above the release and below the next", () => {
    ralph.checkout("-b", "feature/RALPH-42_fix");
    ralph.commit("Work on the fix", "src/ralph/feature_fix.py");
    const snapshot = showVersion({ source: ralph.dir, now: NOV_24 });
    expect(snapshot).toMatchObject({
      version: "20241124.1-feature-RALPH-42-fix-SNAPSHOT",
      mode: "snapshot",
      debianVersion: "20241124.1~feature.RALPH.42.fix.SNAPSHOT.1",
    });
    const sorts = (a: string, op: string, b: string) =>
      spawnSync("dpkg", ["--compare-versions", a, op, b]).status === 0;
    expect(sorts(snapshot.debianVersion, "gt", BUNDLE_RELEASE)).toBe(true);
    expect(sorts(snapshot.debianVersion, "lt", "20241124.1")).toBe(true);
  });
});
