import { spawnSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineLocation } from "../../cli/doctorChecks";
import { PROJECT_DIR, useContainerEngine } from "../support/containers";
import { ENGINE_DIR, requireEngine } from "../support/engine";
import { type GitRepo, removeTempDirs, tempDir } from "../support/gitRepo";
import { BUNDLE_RELEASE, cloneRalph } from "../support/ralphBundle";
import { addFrontEnd, ralphFixtureRepo } from "../support/ralphFixture";

afterAll(removeTempDirs);

/** `npm run doctor -- …` as the README shows it, with exactly this environment. */
function doctor(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = spawnSync("npm", ["run", "--silent", "doctor", "--", ...args], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    env: { HOME: process.env.HOME, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A PATH with a shell, Node, npm and git only: a machine where nothing else was installed yet. */
function bareMachinePath(): string {
  const bin = tempDir("ralph-release-bare-bin-");
  for (const tool of ["sh", "node", "npm", "git"]) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  return bin;
}

/** The check's line and its fix line, as printed. */
const failed = (name: string) => new RegExp(`^✗ ${name} +.*\\n +fix: .+$`, "m");

describe("npm run doctor", () => {
  let repo: GitRepo;
  beforeAll(() => {
    repo = ralphFixtureRepo();
  });

  it("on a bare machine names every missing piece with its fix, and exits 1", () => {
    const bare = { PATH: bareMachinePath(), DOCKER_HOST: `unix://${tempDir()}/no-engine.sock` };
    const result = doctor(bare, "snapshot", "--source", repo.dir);
    expect(result.status).toBe(1);
    for (const missing of ["pulumi CLI", "language host", "tar", "docker", "aptly", "dpkg-deb", "gpg", "Docker API"]) {
      expect(result.stdout).toMatch(failed(missing));
    }
    expect(result.stdout).toMatch(/^✗ pulumi CLI +not on PATH\n +fix: .*npm run engine/m);
    expect(result.stdout).toMatch(/^✗ docker +not on PATH; needed for the builder container.*\n +fix: .*docker\.io/m);
    expect(result.stdout).toMatch(/^✓ git +/m);
    expect(result.stdout).toMatch(/^✓ checkout +.*: 20241124\.1 at [0-9a-f]{12}$/m);
    expect(result.stdout).toMatch(/^✗ gpg +not on PATH; needed for signing SHA256SUMS/m);
    expect(result.stdout).toMatch(/^8 to fix before npm run release -- snapshot up$/m);

    // The release stack on a local backend also needs its passphrase, and a release tag to build.
    repo.commit("unreleased work");
    const credentials = {
      REGISTRY_USERNAME: "bot",
      REGISTRY_PASSWORD: "pw",
      PACKAGECLOUD_TOKEN: "pc",
      PACKAGECLOUD_GPG_KEY: "0123456789ABCDEF0123456789ABCDEF01234567",
      RALPH_RELEASE_GITHUB_TOKEN: "gh",
      RELEASE_GPG_SIGNING_KEY: "-----BEGIN PGP PRIVATE KEY BLOCK-----\nk\n-----END PGP PRIVATE KEY BLOCK-----",
      // The publish workflow's identity: its bundles are signed keyless.
      SIGSTORE_ID_TOKEN: "oidc-token",
    };
    const release = doctor({ ...bare, ...credentials }, "release", "--source", repo.dir, "--set", "inkpy=false");
    expect(release.stdout).toMatch(
      /^✗ passphrase +the release stack's secrets are encrypted with a passphrase: set PULUMI_CONFIG_PASSPHRASE/m,
    );
    expect(release.stdout).toMatch(
      /^✗ checkout +The release stack refuses this checkout: HEAD [0-9a-f]{12} .* tag the next one with `npm run release-new-version`/m,
    );
    repo.git("reset", "--hard", "--quiet", "HEAD~1");
  });

  it("passes once everything is there: the engine on PATH, a container engine, the host tools", () => {
    requireEngine();
    useContainerEngine();
    const env = { PATH: `${join(ENGINE_DIR, "bin")}:${process.env.PATH}`, DOCKER_HOST: process.env.DOCKER_HOST };
    // Images included: their steps need no provider plugin.
    const result = doctor(env, "snapshot", "--source", repo.dir);
    expect(result.stdout).not.toContain("✗");
    expect(result.stdout).toMatch(/^✓ Docker API +\S+/m);
    expect(result.stdout).toMatch(/^ready: npm run release -- snapshot up can start$/m);
    expect(result.status).toBe(0);

    // No DOCKER_HOST: the docker context in use names the engine, and the CLI reaches it.
    const dockerConfig = tempDir("ralph-release-docker-config-");
    const context = (...args: string[]) =>
      spawnSync("docker", ["context", ...args], {
        encoding: "utf8",
        env: { ...process.env, DOCKER_CONFIG: dockerConfig },
      });
    expect(context("create", "build-host", "--docker", `host=${process.env.DOCKER_HOST}`).status).toBe(0);
    expect(context("use", "build-host").status).toBe(0);
    const viaContext = doctor({ PATH: env.PATH, DOCKER_CONFIG: dockerConfig }, "snapshot", "--source", repo.dir);
    expect(viaContext.stdout).toMatch(
      /^✓ Docker API +Docker \S+ at unix:\/\/\S+ \(docker context build-host, local: steps copy their inputs in, nothing is mounted\)$/m,
    );
    expect(viaContext.status).toBe(0);
  });

  it("tells a local engine from a remote one by its endpoint", () => {
    expect(engineLocation("unix:///var/run/docker.sock")).toBe("local");
    expect(engineLocation("tcp://127.0.0.1:2375")).toBe("local");
    expect(engineLocation("tcp://LOCALHOST:2375")).toBe("local");
    expect(engineLocation("tcp://build-host.example.com:2376")).toBe("remote");
    expect(engineLocation("ssh://builder@build-host")).toBe("remote");
  });

  it("a tree with a front end on jammy needs a nodejs the archive lacks: refused with the ways out", () => {
    const withUi = ralphFixtureRepo();
    addFrontEnd(withUi);
    withUi.git("add", "--all");
    withUi.git("commit", "--quiet", "-m", "front end");
    const env = { PATH: process.env.PATH, DOCKER_HOST: `unix://${tempDir()}/no-engine.sock` };
    const jammy = doctor(env, "snapshot", "--source", withUi.dir, "--set", "images=false");
    expect(jammy.stdout).toMatch(
      /^✗ node for the UI +the tree builds a front end \(package\.json\) with nodejs >= 22\.0\.0; ubuntu\/jammy's archive has 12\.22\.9\n +fix: .*baseImage.*frontendAssets.*nodeMinimum/m,
    );
    const enough = doctor(
      env,
      "snapshot",
      "--source",
      withUi.dir,
      "--set",
      "distribution=debian/bookworm",
      "--set",
      "nodeMinimum=18",
    );
    expect(enough.stdout).toMatch(/^✓ node for the UI +debian\/bookworm's nodejs 18\.20\.4 >= 18$/m);
    const assets = tempDir();
    const prebuilt = doctor(env, "snapshot", "--source", withUi.dir, "--set", `frontendAssets=${assets}`);
    expect(prebuilt.stdout).not.toContain("node for the UI");
  });

  it("a bad setting is named with its fix, like up would", () => {
    const result = doctor({ PATH: process.env.PATH }, "snapshot", "--source", repo.dir, "--set", "debTargets=ftp");
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^✗ config +ralph-release:debTargets: names "ftp", not one of packagecloud, aptly/m);
  });

  it("on Ralph's real tree at its release: its own target, said where from; an explicit jammy is warned about, and its Node refused", () => {
    const ralph = cloneRalph();
    const env = { PATH: process.env.PATH, DOCKER_HOST: `unix://${tempDir()}/no-engine.sock` };
    const result = doctor(env, "snapshot", "--source", ralph.dir, "--set", "images=false");
    expect(result.stdout).toMatch(
      new RegExp(`^✓ checkout +${ralph.dir}: ${BUNDLE_RELEASE.replace(".", "\\.")} at [0-9a-f]{12}$`, "m"),
    );
    expect(result.stdout).toMatch(
      /^✓ target +ubuntu\/bionic \(debian\/changelog\), Python 3\.6 \(debian\/rules\), pip 19\.3\.1 \(debian\/rules\), Node the archive's \(debian\/control\)$/m,
    );
    expect(result.stdout).toMatch(/^✓ node for the UI +ubuntu\/bionic's own nodejs \(8\.10\.0\), unversioned$/m);
    const jammy = doctor(
      env,
      "snapshot",
      "--source",
      ralph.dir,
      "--set",
      "images=false",
      "--set",
      "distribution=ubuntu/jammy",
    );
    expect(jammy.stdout).toMatch(
      /^! config +distribution ubuntu\/jammy \(config\) is not what the checkout targets: its debian\/changelog says ubuntu\/bionic, its debian\/rules Python 3\.6\. Fix: pulumi config rm --stack snapshot distribution/m,
    );
    expect(jammy.stdout).toMatch(
      /^✗ node for the UI +the tree builds a front end \(package\.json\) with nodejs >= 22\.0\.0; ubuntu\/jammy's archive has 12\.22\.9$/m,
    );
    expect(jammy.status).toBe(1);
  });
});
