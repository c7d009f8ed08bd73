import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildDeb,
  buildFingerprint,
  type DebBuildRequest,
  DebBuildError,
  directoryDigest,
  workingTreeId,
} from "../../../lib/deb/build";
import { DebVerificationError, verifyDeb } from "../../../lib/deb/verify";
import { renderChangelog } from "../../../lib/version/changelog";
import { BASE_IMAGE, buildBuilderImage, PROJECT_DIR } from "../../support/containers";
import { dockerCommands, stopEngineElsewhere, useEngineElsewhere } from "../../support/engineElsewhere";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { addFrontEnd, ralphFixtureRepo } from "../../support/ralphFixture";
import { BUNDLE_RELEASE, cloneRalph } from "../../support/ralphBundle";

afterAll(removeTempDirs);

const OFFLINE_PIP = ["--no-index", "--no-build-isolation"];

function requestFor(source: string, overrides: Partial<DebBuildRequest> = {}): DebBuildRequest {
  return {
    source,
    commit: execFileSync("git", ["rev-parse", "HEAD"], { cwd: source, encoding: "utf8" }).trim(),
    treeId: workingTreeId(source),
    debianVersion: "20241124.1",
    distribution: "debian/bookworm",
    pythonMinimum: "3.10",
    nodeMinimum: "22.0.0",
    pipArgs: OFFLINE_PIP,
    debianDir: join(PROJECT_DIR, "debian"),
    outDir: tempDir(),
    ...overrides,
  };
}

describe("build fingerprint (the build's trigger)", () => {
  it("is identical for the same tree and changes when one source file changes", () => {
    const repo = ralphFixtureRepo();
    const first = buildFingerprint(requestFor(repo.dir, { outDir: "/x" }), "recipe");
    expect(buildFingerprint(requestFor(repo.dir, { outDir: "/x" }), "recipe")).toBe(first);
    expect(workingTreeId(repo.dir)).toBe(repo.git("rev-parse", "HEAD^{tree}"));

    repo.write("src/ralph/__main__.py", `${readFileSync(join(repo.dir, "src/ralph/__main__.py"), "utf8")}# touched\n`);
    const touched = buildFingerprint(requestFor(repo.dir, { outDir: "/x" }), "recipe");
    expect(touched).not.toBe(first);
    // The user's index is untouched: the change is still unstaged.
    expect(repo.git("status", "--porcelain")).toBe(" M src/ralph/__main__.py");
  });

  it("changes with the version, the recipes, the builder and its recipe", () => {
    const repo = ralphFixtureRepo();
    const base = requestFor(repo.dir, { outDir: "/x" });
    const fingerprint = buildFingerprint(base, "recipe");
    const debianCopy = tempDir();
    cpSync(base.debianDir, debianCopy, { recursive: true });
    writeFileSync(
      join(debianCopy, "ralph-core.dirs"),
      `${readFileSync(join(debianCopy, "ralph-core.dirs"), "utf8")}var/cache/ralph\n`,
    );
    expect(directoryDigest(debianCopy)).not.toBe(directoryDigest(base.debianDir));
    for (const changed of [
      buildFingerprint({ ...base, debianVersion: "20241124.2" }, "recipe"),
      buildFingerprint({ ...base, debianDir: debianCopy }, "recipe"),
      buildFingerprint({ ...base, builderImage: "sha256:1" }, "recipe"),
      buildFingerprint(base, "other recipe"),
    ]) {
      expect(changed).not.toBe(fingerprint);
    }
  });
});

describe("changelog", () => {
  it("lists the commits since the previous release, deterministically", () => {
    const repo = ralphFixtureRepo();
    const request = {
      source: repo.dir,
      commit: repo.git("rev-parse", "HEAD"),
      debianVersion: "20241124.1",
      codename: "jammy",
      maintainer: "Ralph maintainers <ralph@allegro.pl>",
    };
    const changelog = renderChangelog(request);
    const signature = / -- Ralph maintainers <ralph@allegro.pl>  \w{3}, \d{2} \w{3} \d{4} [\d:]{8} [+-]\d{4}\n/.source;
    expect(changelog).toMatch(
      new RegExp(
        "^ralph-core \\(20241124\\.1\\) jammy; urgency=medium\n\n  \\* Add a DC view\n  \\* Fix the importer\n\n" +
          signature +
          // The release before it, the first: no earlier release to list changes since.
          "\nralph-core \\(20241120\\.1\\) jammy; urgency=medium\n\n  \\* Release 20241120\\.1\\.\n\n" +
          signature +
          "$",
      ),
    );
    expect(renderChangelog(request)).toBe(changelog);
    execFileSync("dpkg-parsechangelog", ["-l-"], { input: changelog });
  });
});

describe("changelog of Ralph's real history (the bundle)", () => {
  it("has an entry per release tag reachable from the commit, newest first, each with its own commits", () => {
    const ralph = cloneRalph();
    const commit = ralph.git("rev-parse", "HEAD");
    const changelog = renderChangelog({
      source: ralph.dir,
      commit,
      debianVersion: BUNDLE_RELEASE,
      codename: "bullseye",
      maintainer: "Ralph maintainers <ralph@allegro.pl>",
    });
    const parsed = execFileSync("dpkg-parsechangelog", ["-l-", "--all", "--format", "rfc822"], {
      input: changelog,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const versions = [...parsed.matchAll(/^Version: (.+)$/gm)].map((m) => m[1]);
    const tags = ralph
      .git("tag", "--merged", commit)
      .split("\n")
      .filter((tag) => /^\d{8}\.\d+$/.test(tag));
    const newestFirst = execFileSync("sort", ["--version-sort", "--reverse"], {
      input: tags.join("\n"),
      encoding: "utf8",
    })
      .trim()
      .split("\n");
    expect(versions).toEqual(newestFirst);
    expect(versions.slice(0, 3)).toEqual([BUNDLE_RELEASE, "20241008.3", "20241008.2"]);
    // Each release lists the commits between it and the one before.
    const entry = (version: string) => changelog.split("\nralph-core (").find((e) => e.startsWith(`${version})`)) ?? "";
    const between = ralph.git("log", "--no-merges", "--format=%s", "20241008.2..20241008.3").split("\n");
    expect(entry("20241008.3")).toContain(`  * ${between[0].replace(/\s+/g, " ").trim()}`);
  }, 120_000);
});

// Every container build and check here runs on an engine that cannot see this machine's files.
afterAll(stopEngineElsewhere);

/**
 * No container the steps made had a path of this machine mounted (their inputs went in by copy), and
 * each container and image is of ralph-core's platform.
 */
function expectCopiedNotMounted() {
  const commands = dockerCommands();
  const containers = commands.filter(([command]) => command === "run" || command === "create");
  expect(containers.length).toBeGreaterThan(0);
  expect(containers.filter((argv) => argv.some((arg) => /^(-v|--volume|--mount)/.test(arg)))).toEqual([]);
  expect(commands.filter(([command, source]) => command === "cp" && source === "-").length).toBeGreaterThan(0);
  const made = commands.filter(([command]) => ["run", "create", "build"].includes(command));
  expect(made.filter((argv) => !argv.includes("--platform=linux/amd64"))).toEqual([]);
}

describe("a real ralph-core deb from a Ralph-shaped checkout", () => {
  let builderImage: string;
  beforeAll(() => {
    useEngineElsewhere();
    builderImage = buildBuilderImage();
  }, 900_000);

  it("builds in the builder container, writes SHA256SUMS, passes the gate, installs and runs", async () => {
    const repo = ralphFixtureRepo();
    const artifact = await buildDeb(requestFor(repo.dir, { builderImage }));
    expect(artifact).toMatchObject({
      fileName: "ralph-core_20241124.1_amd64.deb",
      packageName: "ralph-core",
      version: "20241124.1",
      architecture: "amd64",
    });
    const sha256 = execFileSync("sha256sum", [artifact.path], { encoding: "utf8" }).split(" ")[0];
    expect(artifact.sha256).toBe(sha256);
    expect(readFileSync(artifact.checksumsPath, "utf8")).toBe(`${sha256}  ralph-core_20241124.1_amd64.deb\n`);
    expect(execFileSync("dpkg-deb", ["--field", artifact.path, "Version"], { encoding: "utf8" }).trim()).toBe(
      "20241124.1",
    );

    const checks = await verifyDeb({
      debPath: artifact.path,
      expected: artifact,
      checkerImage: builderImage,
      installImage: BASE_IMAGE,
    });
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ["control fields", true],
      ["contents: console scripts, config files, unit, directories", true],
      ["lintian (no errors outside debian/ralph-core.lintian-overrides)", true],
      [`installs into a clean ${BASE_IMAGE} and ralph runs`, true],
    ]);
    const install = checks[3].output;
    expect(install).toContain("ralph 3.0.0");
    expect(install).toMatch(/uid=\d+\(ralphsrv\)/);
    expectCopiedNotMounted();

    // In the builder the build path is fixed, so the same commit gives the same bytes, and a release
    // rebuild into the same place is accepted; different bytes for the same version are not.
    const again = await buildDeb({
      ...requestFor(repo.dir, { builderImage }),
      outDir: dirname(dirname(artifact.path)),
      keepExisting: true,
    });
    expect(again.sha256).toBe(artifact.sha256);
    writeFileSync(artifact.path, "tampered");
    await expect(
      buildDeb({
        ...requestFor(repo.dir, { builderImage }),
        outDir: dirname(dirname(artifact.path)),
        keepExisting: true,
      }),
    ).rejects.toThrow(/already exists with sha256 .* A release's deb is never overwritten/);
    expect(readFileSync(artifact.path, "utf8")).toBe("tampered");
  }, 900_000);

  it("builds a snapshot on the host, with a changelog entry for the snapshot version", async () => {
    const repo = ralphFixtureRepo();
    repo.checkout("-b", "feature/ABC_12");
    repo.commit("Snapshot work", "src/ralph/snapshot.py");
    const request = requestFor(repo.dir, { debianVersion: "20241124.2~feature.ABC.12.SNAPSHOT.1" });
    const first = await buildDeb(request);
    expect(first.fileName).toBe("ralph-core_20241124.2~feature.ABC.12.SNAPSHOT.1_amd64.deb");
    const changelog = execFileSync(
      "sh",
      ["-c", `dpkg-deb --fsys-tarfile '${first.path}' | tar -xOf - ./usr/share/doc/ralph-core/changelog.gz | gunzip`],
      { encoding: "utf8" },
    );
    expect(changelog).toContain("ralph-core (20241124.2~feature.ABC.12.SNAPSHOT.1) bookworm");
    expect(changelog).toContain("* Snapshot work");
  }, 900_000);

  it("stops at the gate when a console script is missing, with the check's own words", async () => {
    const repo = ralphFixtureRepo({ withoutScript: "validate_ralph" });
    const artifact = await buildDeb(requestFor(repo.dir));
    const gate = verifyDeb({ debPath: artifact.path, expected: artifact, installImage: BASE_IMAGE });
    await expect(gate).rejects.toBeInstanceOf(DebVerificationError);
    await expect(gate).rejects.toThrow(
      /failed 1 of 4 verification checks; it will not be published:\n- contents: .*\n\s+\/opt\/ralph\/ralph-core\/bin\/validate_ralph is missing/,
    );
  }, 900_000);

  it("builds the uncommitted tree the plan saw without writing into the checkout's .git, and reports a failed build with its log, leaving no container", async () => {
    const repo = ralphFixtureRepo();
    // Uncommitted: only the tree the plan fingerprinted has it.
    repo.write("setup.py", "raise SystemExit('broken setup.py')\n");
    const gitDir = directoryDigest(join(repo.dir, ".git"));
    const commandsBefore = dockerCommands().length;
    const request = requestFor(repo.dir, { builderImage });
    const build = buildDeb(request);
    await expect(build).rejects.toBeInstanceOf(DebBuildError);
    await expect(build).rejects.toThrow(
      /dpkg-buildpackage failed \(exit \d+\); full log: .*build\.log\n[\s\S]*setup\.py egg_info did not run successfully/,
    );
    // The builder container it made (named on its create) is gone.
    const made = dockerCommands()
      .slice(commandsBefore)
      .filter(([command]) => command === "create")
      .map((argv) => argv.find((arg) => arg.startsWith("--name="))?.slice("--name=".length));
    expect(made).toHaveLength(1);
    const left = execFileSync("docker", ["ps", "--all", "--format", "{{.Names}}"], { encoding: "utf8" }).split("\n");
    expect(left, "the failed build's container is removed").not.toContain(made[0]);
    expect(directoryDigest(join(repo.dir, ".git")), "no object, index or lock written").toBe(gitDir);
    // Changed after the plan: the build refuses rather than build something else under its fingerprint.
    repo.write("setup.py", "raise SystemExit('changed again')\n");
    await expect(buildDeb(request)).rejects.toThrow(
      new RegExp(
        `checkout ${repo.dir} changed after the plan \\(its tree is now [0-9a-f]{12}, the plan's ${request.treeId.slice(0, 12)}\\)`,
      ),
    );
  }, 900_000);
});

/** Paths inside a deb. */
const debContents = (path: string) =>
  execFileSync("dpkg-deb", ["--contents", path], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
/** One file of a deb, as text. */
const debFile = (deb: string, file: string) =>
  execFileSync("sh", ["-c", `dpkg-deb --fsys-tarfile '${deb}' | tar -xOf - '.${file}'`], { encoding: "utf8" });
const STYLESHEET = /\/opt\/ralph\/ralph-core\/lib\/python3\.\d+\/site-packages\/ralph\/static\/css\/ralph\.css/;

describe("the front end, built the way the tree asks", () => {
  let builderImage: string;
  beforeAll(() => {
    useEngineElsewhere();
    // Debian's own nodejs (18 on bookworm), from the control file, as for any distribution.
    builderImage = buildBuilderImage({ nodeMinimum: "18" });
  }, 900_000);

  it("npm ci (a lockfile) and gulp run in the builder, and gulp's output is in the deb", async () => {
    const repo = ralphFixtureRepo();
    addFrontEnd(repo, { lockfile: true });
    const artifact = await buildDeb(requestFor(repo.dir, { builderImage, nodeMinimum: "18" }));
    const log = readFileSync(artifact.buildLog, "utf8");
    expect(log).toContain("ralph-release: front end: npm ci");
    expect(log).toContain("ralph-release: front end: gulp");
    const stylesheet = debContents(artifact.path)
      .split("\n")
      .find((line) => STYLESHEET.test(line));
    expect(stylesheet, "gulp's stylesheet in the package").toBeDefined();
    const path = (STYLESHEET.exec(stylesheet as string) as RegExpExecArray)[0];
    expect(debFile(artifact.path, path)).toBe("/* built by gulp */\n");
  }, 900_000);

  it("npm install without a lockfile; bower's unreachable git source stops the build naming the step", async () => {
    const repo = ralphFixtureRepo();
    addFrontEnd(repo, { bower: true });
    const build = buildDeb(requestFor(repo.dir, { builderImage, nodeMinimum: "18" }));
    await expect(build).rejects.toThrow(
      /front end: bower install failed; it needs bower\.json's sources \(the bower registry and git hosts such as github\.com\)\. Supply pre-built front-end assets instead: set frontendAssets/,
    );
  }, 900_000);

  it("pre-built assets are laid over the tree; npm, bower and gulp are skipped and node is not needed", async () => {
    const repo = ralphFixtureRepo();
    addFrontEnd(repo, { bower: true });
    const assets = tempDir();
    mkdirSync(join(assets, "src/ralph/static/css"), { recursive: true });
    writeFileSync(join(assets, "src/ralph/static/css/ralph.css"), "/* pre-built */\n");
    // On this machine (no Debian nodejs package): the control file must not ask for node.
    const artifact = await buildDeb(requestFor(repo.dir, { frontendAssets: assets }));
    expect(readFileSync(artifact.buildLog, "utf8")).toContain("pre-built assets supplied; npm, bower and gulp skipped");
    const path = (STYLESHEET.exec(debContents(artifact.path)) as RegExpExecArray)[0];
    expect(debFile(artifact.path, path)).toBe("/* pre-built */\n");
  }, 900_000);
});
