import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/containers";
import { GitRepo, removeTempDirs } from "../support/gitRepo";
import { INKPY_CHECKOUT } from "../support/pulumi";
import { BUNDLE_RELEASE, cloneRalph } from "../support/ralphBundle";

afterAll(removeTempDirs);

const run = promisify(execFile);
/** inkpy's checkout, which a release plan needs (a snapshot's leaves inkpy out without it). */
const INKPY = ["--set", `inkpySource=${INKPY_CHECKOUT}`];
const GOLDEN = join(__dirname, "golden");

/** Runs `npm run plan` as a user would, with none of CI's variables set unless given. */
async function plan(...args: string[]) {
  return planWithEnv({}, ...args);
}

async function planWithEnv(extra: Record<string, string>, ...args: string[]) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  try {
    const { stdout, stderr } = await run("npm", ["run", "--silent", "plan", "--", ...args], { cwd: PROJECT_DIR, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Ralph releases dated ahead of any test run, so the versions do not depend on today's date. */
function ralphCheckout() {
  const repo = GitRepo.init();
  repo.commit("initial");
  repo.tag("20991230.1");
  repo.commit("Add DC view");
  repo.tag("20991231.1");
  return repo;
}

/**
 * The plan matches its golden file (the commit id as `<commit>`). A difference fails; `vitest -u`
 * rewrites the file instead, for a change of output that is intended (review its diff).
 */
async function expectGolden(name: string, actual: string, commit: string): Promise<void> {
  await expect(actual.replaceAll(commit, "<commit>")).toMatchFileSnapshot(join(GOLDEN, name));
}

describe("npm run plan", () => {
  it("release: prints version, deb, images with tags, targets, GitHub release and the order", async () => {
    const repo = ralphCheckout();
    const { code, stdout, stderr } = await plan("release", "--source", repo.dir, ...INKPY);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    await expectGolden("plan-release.txt", stdout, repo.git("rev-parse", "HEAD"));
  });

  it("snapshot of a feature branch: the stack file's settings, local targets, no latest", async () => {
    const repo = ralphCheckout();
    repo.git("checkout", "--quiet", "-b", "feature/ABC_12");
    repo.commit("Work in progress");
    const { code, stdout } = await plan("snapshot", "--source", repo.dir);
    expect(code).toBe(0);
    await expectGolden("plan-snapshot.txt", stdout, repo.git("rev-parse", "HEAD"));
  });

  it("--json carries the same facts for scripts", async () => {
    const repo = ralphCheckout();
    const { stdout } = await plan("release", "--source", repo.dir, ...INKPY, "--json", "--set", "githubRelease=false");
    const parsed = JSON.parse(stdout);
    expect(parsed.outputs).toMatchObject({ version: "20991231.1", imageTags: ["20991231.1", "latest"] });
    expect(parsed.standIns).toEqual([
      "registryUsername",
      "registryPassword",
      "packagecloudToken",
      "packagecloudGpgKey",
      "signingKey",
      "gpgSigningKey",
    ]);
    expect(parsed.resources.some((r: { type: string }) => r.type.includes("github"))).toBe(false);
  });

  it("a release older than the newest on ng (a patch of an earlier line): its version tags only, and why latest stays", async () => {
    const repo = ralphCheckout();
    repo.checkout("--detach", "20991230.1");
    const { code, stdout } = await plan(
      "release",
      "--source",
      repo.dir,
      ...INKPY,
      "--json",
      "--set",
      "githubRelease=false",
    );
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout);
    expect(parsed.outputs.imageTags).toEqual(["20991230.1"]);
    expect(parsed.outputs.notices).toContain(
      "latest stays: 20991231.1 on the main branch is newer than 20991230.1, so only the version tags are pushed",
    );
    const text = await plan("release", "--source", repo.dir, ...INKPY, "--set", "githubRelease=false");
    expect(text.stdout).not.toMatch(/:latest\b/);
    expect(text.stdout).toContain("note      latest stays: 20991231.1 on the main branch is newer than 20991230.1");
  });

  it("shows an adopted GitHub release and the publish workflow's environment", async () => {
    const repo = ralphCheckout();
    const { code, stdout } = await plan(
      "release",
      "--source",
      repo.dir,
      ...INKPY,
      "--set",
      "githubEnvironment=release",
      "--set",
      "ciPulumiBackendUrl=s3://bucket/ralph-release",
      "--set",
      "githubReleaseId=77",
    );
    expect(code).toBe(0);
    expect(stdout).toContain(
      "github    release of tag 20991231.1 in allegro/ralph (adopting release 77): 14 assets uploaded once, published last; never deleted\n" +
        "          environment 'release' in allegro/ralph for the publish workflow: PACKAGECLOUD_GPG_KEY, PACKAGECLOUD_TOKEN, " +
        "PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, RALPH_RELEASE_GITHUB_TOKEN, REGISTRY_PASSWORD, REGISTRY_USERNAME, " +
        "RELEASE_GPG_SIGNING_KEY\n",
    );
    expect(stdout).toMatch(
      /not set +registryUsername, registryPassword, packagecloudToken, packagecloudGpgKey, githubToken, ciPulumiPassphrase, signingKey, gpgSigningKey:/,
    );
  });

  it("never reads a secret's value, so none can reach its output", async () => {
    const repo = ralphCheckout();
    const { code, stdout } = await planWithEnv(
      { PACKAGECLOUD_TOKEN: "pc-secret-4711", REGISTRY_PASSWORD: "pw-secret-4711", REGISTRY_USERNAME: "bot" },
      "release",
      "--source",
      repo.dir,
      ...INKPY,
      "--json",
    );
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/secret-4711/);
    const parsed = JSON.parse(stdout);
    // Given, so not stood in for; the key's pin, the GitHub token and the signing keys were not.
    expect(parsed.standIns).toEqual(["packagecloudGpgKey", "githubToken", "signingKey", "gpgSigningKey"]);
    const upload = parsed.resources.find((r: { name: string }) => r.name === "ralph-core-packagecloud");
    expect(upload.inputs.token.value).toBe("<secret: set, not read by the plan>");
  });

  it("refuses what up would refuse, with the same message and nothing planned", async () => {
    const repo = ralphCheckout();
    const noInkpy = await plan("release", "--source", repo.dir);
    expect(noInkpy.code).toBe(1);
    expect(noInkpy.stderr).toMatch(
      /ralph-release:inkpySource: has no inkpy recipe: .*\/inkpy\/Dockerfile does not exist/,
    );
    repo.commit("untagged");
    const refused = await plan("release", "--source", repo.dir, ...INKPY);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(
      /release stack refuses this checkout: HEAD [0-9a-f]{12} \(branch ng\) carries no release tag/,
    );
    const badKey = await plan("snapshot", "--source", repo.dir, "--set", "imageNamespce=x");
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(
      /--set imageNamespce: expected key=value with a ralph-release key \(README lists them\); did you mean --set imageNamespace=x\?/,
    );
    // As npm run release refuses it: a snapshot's plan never becomes a release's through a flag.
    const asRelease = await plan("snapshot", "--source", repo.dir, "--set", "mode=release");
    expect(asRelease.code).toBe(1);
    expect(asRelease.stdout).toBe("");
    expect(asRelease.stderr).toContain(
      "mode comes from the first argument (snapshot), not from --set or the environment",
    );
  });
});

describe("npm run plan on Ralph's real tree (the bundle)", () => {
  it("release at 20241023.1 with inkpy's checkout: the three images; without it: refused, as up would", async () => {
    const ralph = cloneRalph();
    const planned = await plan("release", "--source", ralph.dir, ...INKPY);
    expect(planned.stdout).toContain(`version   ${BUNDLE_RELEASE} (release; deb ${BUNDLE_RELEASE})`);
    expect(planned.stdout).toContain(`images    ralph, ralph-static-nginx, inkpy, tagged ${BUNDLE_RELEASE}, latest`);
    // The release stack file keeps jammy (until bionic has been built once), and the plan says the
    // tag's tree names another.
    expect(planned.stdout).toMatch(/^target +ubuntu\/jammy \(config\),/m);
    const disagreement =
      /distribution ubuntu\/jammy \(config\) is not what the checkout targets: its debian\/changelog says ubuntu\/bionic/;
    expect(planned.stdout).toMatch(new RegExp(`^note +${disagreement.source}`, "m"));
    expect(planned.stderr).toMatch(disagreement);
    // auto: the tag's own target, what its debian/ says.
    const auto = await plan("release", "--source", ralph.dir, ...INKPY, "--set", "distribution=auto");
    expect(auto.stderr).toBe("");
    expect(auto.stdout).toMatch(
      /^target +ubuntu\/bionic \(debian\/changelog\), Python 3\.6 \(debian\/rules\), pip 19\.3\.1 \(debian\/rules\), Node the archive's/m,
    );
    const refused = await plan("release", "--source", ralph.dir);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(
      /inkpySource: has no inkpy recipe: .* release without it: pulumi config set --stack release inkpy false/s,
    );
  }, 120_000);

  it("snapshot of a branch: ralph and ralph-static-nginx, and a note that inkpy is left out", async () => {
    const ralph = cloneRalph();
    ralph.checkout("-b", "feature/RALPH-42");
    ralph.commit("Work in progress", "src/ralph/wip.py");
    const { code, stdout } = await plan("snapshot", "--source", ralph.dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^version   \d{8}\.\d+-feature-RALPH-42-SNAPSHOT \(snapshot; deb \d{8}\.\d+~feature\.RALPH\.42\.SNAPSHOT\.1\)/m,
    );
    expect(stdout).toMatch(/^images    ralph, ralph-static-nginx, tagged \S+-SNAPSHOT, smoke-tested$/m);
    expect(stdout).toMatch(/^note      inkpy left out: no Dockerfile in \.\.\/inkpy \(inkpySource\)/m);
    expect(stdout).not.toMatch(/images-inkpy/);
  }, 120_000);
});
