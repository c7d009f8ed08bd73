import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { signingKey } from "../../support/aptRepo";
import { GitRepo, removeTempDirs } from "../../support/gitRepo";

afterAll(removeTempDirs);

const PROJECT = resolve(__dirname, "../../..");
const MAINTAINER = {
  GIT_AUTHOR_NAME: "Ralph Maintainer",
  GIT_AUTHOR_EMAIL: "maintainer@example.invalid",
  GIT_COMMITTER_NAME: "Ralph Maintainer",
  GIT_COMMITTER_EMAIL: "maintainer@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** `npm run release-new-version -- --source DIR` as a maintainer runs it in this project, on 2024-11-21. */
function releaseNewVersion(repo: GitRepo, env: Record<string, string> = {}, ...args: string[]) {
  const command = ["run", "--silent", "release-new-version", "--", "--source", repo.dir, ...args];
  const result = spawnSync("npm", command, {
    cwd: PROJECT,
    encoding: "utf8",
    env: { ...process.env, ...MAINTAINER, RALPH_RELEASE_NOW: "2024-11-21T18:00:00Z", ...env },
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

function ralphCheckout() {
  const repo = GitRepo.init();
  repo.commit("initial");
  repo.tag("20241120.1");
  repo.commit("Fix asset import");
  return repo;
}

describe("npm run release-new-version", () => {
  it("tags the next version on ng, annotated with the changes, and says what to push", () => {
    const repo = ralphCheckout();
    const head = repo.git("rev-parse", "HEAD");
    const first = releaseNewVersion(repo);
    expect(first).toMatchObject({ status: 0, stdout: "20241121.1" });
    expect(first.stderr).toContain(`Created annotated tag 20241121.1 on ${head.slice(0, 12)}`);
    expect(first.stderr).toContain(`1. git -C ${repo.dir} push origin 20241121.1`);
    expect(repo.git("rev-parse", "20241121.1^{commit}")).toBe(head);
    expect(repo.git("cat-file", "-t", "20241121.1")).toBe("tag");
    expect(repo.git("tag", "-l", "--format=%(contents)", "20241121.1")).toBe(
      "Release 20241121.1\n\nChanges since 20241120.1:\n- Fix asset import",
    );

    // Same day, another release: patch 2.
    repo.commit("Fix the fix");
    expect(releaseNewVersion(repo)).toMatchObject({ status: 0, stdout: "20241121.2" });
  });

  it("refuses a dirty tree, another branch and an already tagged HEAD, creating nothing", () => {
    const repo = ralphCheckout();
    repo.write("src/ralph/settings.py", "DEBUG = True\n");
    const dirty = releaseNewVersion(repo);
    expect(dirty.status).toBe(1);
    expect(dirty.stderr).toMatch(/refuses: the working tree has uncommitted changes \(src\/ralph\/settings\.py\)/);
    repo.git("stash", "--include-untracked");

    repo.git("checkout", "--quiet", "-b", "feature/ABC_12");
    const feature = releaseNewVersion(repo);
    expect(feature.status).toBe(1);
    expect(feature.stderr).toMatch(/HEAD is on branch feature\/ABC_12; release tags go on 'ng'\. Run `git checkout ng/);
    expect(repo.git("tag", "--list")).toBe("20241120.1");

    repo.git("checkout", "--quiet", "ng");
    releaseNewVersion(repo);
    const again = releaseNewVersion(repo);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/is already released as 20241121\.1/);
    expect(repo.git("tag", "--list").split("\n")).toEqual(["20241120.1", "20241121.1"]);
  });

  it("GPG-signs the tag with the configured key", () => {
    const repo = ralphCheckout();
    const key = signingKey();
    const env = { GNUPGHOME: key.gnupgHome, RALPH_RELEASE_SIGNING_KEY: key.keyId };
    const signed = releaseNewVersion(repo, env, "--json");
    expect(signed.status).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ tag: "20241121.1", signed: true });
    const verify = spawnSync("git", ["verify-tag", "--raw", "20241121.1"], {
      cwd: repo.dir,
      encoding: "utf8",
      env: { ...process.env, ...MAINTAINER, GNUPGHOME: key.gnupgHome },
    });
    expect(verify.status).toBe(0);
    expect(verify.stderr).toContain(`VALIDSIG ${key.keyId}`);
  });
});
