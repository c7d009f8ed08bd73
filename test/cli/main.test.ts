import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveDirectory, tinyDeb } from "../support/aptRepo";
import { GitRepo, removeTempDirs, tempDir } from "../support/gitRepo";

const PROJECT = resolve(__dirname, "../..");

/** Runs the CLI exactly as the README says, from `cwd` (relative --source is relative to it). */
function cli(cwd: string, ...args: string[]) {
  return cliWithEnv(cwd, {}, ...args);
}

function cliWithEnv(cwd: string, env: Record<string, string>, ...args: string[]) {
  const result = spawnSync("npm", ["--prefix", PROJECT, "run", "--silent", "cli", "--", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, RALPH_RELEASE_NOW: "2024-11-24T09:00:00Z", ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.replace(/^npm warn.*\n/gm, "") };
}

describe("npm run --silent cli -- version", () => {
  let repo: GitRepo;
  beforeAll(() => {
    repo = GitRepo.init();
    repo.commit("initial");
    repo.tag("20241120.1");
    repo.commit("fix");
    repo.tag("20241121.1");
    repo.commit("fix again");
    repo.tag("20241121.2");
    repo.commit("next");
    repo.tag("20241123.1");
    repo.commit("work");
    repo.git("branch", "feature/ABC_12");
  });
  afterAll(removeTempDirs);

  it("generate prints only the next version", () => {
    expect(cli("/", "version", "generate", "--source", repo.dir)).toEqual({
      status: 0,
      stdout: "20241124.1\n",
      stderr: "",
    });
  });

  it("show prints the snapshot version of a feature branch, using --source", () => {
    repo.checkout("feature/ABC_12");
    expect(cli("/", "version", "show", "--source", repo.dir).stdout).toBe("20241124.1-feature-ABC-12-SNAPSHOT\n");
  });

  it("show prints the tag for a detached HEAD on a release of ng, --source relative to where npm ran", () => {
    repo.checkout("--detach", "20241121.2");
    expect(cli(resolve(repo.dir, ".."), "version", "show", "--source", basename(repo.dir)).stdout).toBe("20241121.2\n");
  });

  it("show --json gives the facts behind the answer; RALPH_SOURCE names the checkout as in CI", () => {
    const facts = JSON.parse(cliWithEnv("/", { RALPH_SOURCE: repo.dir }, "version", "show", "--json").stdout);
    expect(facts).toMatchObject({ version: "20241121.2", mode: "release", mainBranchRef: "refs/heads/ng" });
  });

  it("without --source answers for ../ralph beside this project, as plan and release do, not for the current directory", () => {
    const env = { RALPH_SOURCE: "" };
    const result = cliWithEnv(repo.dir, env, "version", "show");
    const defaultCheckout = resolve(PROJECT, "..", "ralph");
    if (existsSync(defaultCheckout)) {
      expect(result.stdout).toBe(cliWithEnv("/", env, "version", "show", "--source", defaultCheckout).stdout);
      expect(result.stdout).not.toBe("20241121.2\n");
    } else {
      expect(result).toMatchObject({ status: 1, stdout: "" });
      expect(result.stderr).toContain(`${defaultCheckout} does not exist. Clone Ralph there`);
    }
  });

  it("fails with a message on stderr, nothing on stdout, exit 1", () => {
    const result = cli("/", "version", "show", "--source", "/");
    expect(result).toMatchObject({ status: 1, stdout: "" });
    expect(result.stderr).toBe(
      "ralph-release: / is not a git checkout. Point --source (or config key ralph-release:source) at a clone of Ralph.\n",
    );
  });

  it("rejects an unknown command with usage, exit 2", () => {
    const result = cli(repo.dir, "version", "bump");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("usage: npm run --silent cli -- version show|generate");
  });
});

describe("npm run --silent cli -- apt (what AptlyRepository and AptIndexWait run)", () => {
  afterAll(removeTempDirs);

  it("aptly publishes from RALPH_APTLY_PUBLISH and prints the publication; wait returns once indexed", async () => {
    const rootDir = tempDir("ralph-release-aptly-");
    const debPath = tinyDeb("ralph-core", "20261124.1");
    const request = {
      rootDir,
      repository: "ralph-debian-bookworm",
      distro: "debian",
      release: "bookworm",
      prefix: "debian",
      debPath,
      sha256: createHash("sha256").update(readFileSync(debPath)).digest("hex"),
    };
    const published = cliWithEnv("/", { RALPH_APTLY_PUBLISH: JSON.stringify(request) }, "apt", "aptly");
    expect(published.stderr).toBe("");
    expect(JSON.parse(published.stdout)).toMatchObject({
      publicDir: `${rootDir}/public`,
      prefix: "debian",
      signed: false,
    });

    const served = await serveDirectory(`${rootDir}/public`);
    try {
      const wait = (version: string) =>
        new Promise<ReturnType<typeof cli>>((done) => {
          const env = JSON.stringify({
            baseUrl: `${served.url}/debian`,
            release: "bookworm",
            packageName: "ralph-core",
            version,
            deadlineMs: 1_500,
            intervalMs: 300,
          });
          // Asynchronous: the repository is served by this very process.
          const child = spawn("npm", ["--prefix", PROJECT, "run", "--silent", "cli", "--", "apt", "wait"], {
            cwd: "/",
            env: { ...process.env, RALPH_APT_WAIT: env },
          });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (c: Buffer) => (stdout += c));
          child.stderr.on("data", (c: Buffer) => (stderr += c));
          child.on("close", (status: number) =>
            done({ status, stdout, stderr: stderr.replace(/^npm warn.*\n/gm, "") }),
          );
        });
      const ready = await wait("20261124.1");
      expect(ready.status).toBe(0);
      expect(ready.stderr).toContain("ralph-core 20261124.1 is installable from");
      const missing = await wait("20261124.2");
      expect(missing.status).toBe(1);
      expect(missing.stdout).toBe("");
      expect(missing.stderr).toMatch(
        /ralph-release: ralph-core 20261124.2 is not installable .*versions indexed: 20261124.1/,
      );
    } finally {
      await served.close();
    }
  }, 60_000);
});
