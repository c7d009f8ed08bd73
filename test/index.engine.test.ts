/**
 * The program under the real Pulumi engine (npm run engine): a deb-only stack with the host builder,
 * published to a local aptly repository and the packagecloud contract server. What only the engine
 * shows: outputs of a real run, no-op runs, diffs after a change, interruption, retain-on-delete and
 * secrets in state.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { EngineEvent, OutputMap, Stack, UpResult } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { armoredSecretKey, publicKeyFile, serveDirectory, signingKey } from "./support/aptRepo";
import { type GithubServer, startGithubServer } from "./support/githubServer";
import { BASE_IMAGE, docker, PROJECT_DIR, useContainerEngine } from "./support/containers";
import { debOnlyConfig, type EngineProject, engineProject } from "./support/engine";
import { type GitRepo, removeTempDirs, tempDir } from "./support/gitRepo";
import { type PackagecloudServer, startPackagecloudServer } from "./support/packagecloudServer";
import { INKPY_CHECKOUT } from "./support/pulumi";
import { aptlyPublicationFor } from "../lib/publish/aptly";
import { directoryDigest } from "../lib/deb/build";
import { ralphFixtureRepo } from "./support/ralphFixture";
import { RegistryApi, startFaultyRegistry, tagPuts } from "./support/registry";
import { identityToken, type MockSigstore, startMockSigstore } from "./support/sigstore";

const MINUTES = 60_000;
const registry = new RegistryApi("http://127.0.0.1:5000");

let server: PackagecloudServer;
beforeAll(async () => {
  useContainerEngine();
  // Snapshots (the snapshot stack's default repository) and releases in repositories of their own.
  server = await startPackagecloudServer({ repositories: ["allegro/ralph-snapshots", "allegro/ralph-releases"] });
});
afterAll(async () => {
  await server?.close();
  removeTempDirs();
});

/** The deb-only stack, published to aptly and the packagecloud contract server. */
const debOnlyToBoth = (repo: GitRepo, extra: Record<string, string> = {}) =>
  debOnlyConfig(repo.dir, { debTargets: "packagecloud,aptly", packagecloudUrl: server.url, ...extra });

/** The steps an operation took (anything but `same`) per resource name, from its engine events. */
function steps(events: EngineEvent[]): Record<string, string[]> {
  const byName: Record<string, string[]> = {};
  for (const event of events) {
    const step = event.resourcePreEvent?.metadata;
    // A refresh reads every resource: what it then does is what counts.
    if (!step || ["same", "refresh", "read"].includes(step.op) || step.type.startsWith("pulumi:providers:")) continue;
    (byName[step.urn.split("::").at(-1) as string] ??= []).push(step.op);
  }
  return byName;
}

/** Names of the resources an operation would change. */
const changedResources = (events: EngineEvent[]) => Object.keys(steps(events)).sort();

async function preview(stack: Stack): Promise<string[]> {
  const events: EngineEvent[] = [];
  await stack.preview({ onEvent: (event) => events.push(event) });
  return changedResources(events);
}

const value = (outputs: OutputMap, name: string) => outputs[name]?.value as string;
const sha256Of = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const successfulUploads = () => server.requests.filter((r) => r.route === "upload" && r.status === 201).length;

/** Every file below `dir`, for looking through what the engine wrote. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((entry) => join(dir, entry))
    .filter((path) => statSync(path).isFile());
}

describe("snapshot stack, deb only, under the real engine", () => {
  let project: EngineProject;
  let repo: GitRepo;
  let stack: Stack;
  let config: Record<string, string>;

  beforeAll(async () => {
    project = engineProject();
    repo = ralphFixtureRepo();
    config = debOnlyToBoth(repo);
    stack = await project.stack("snapshot", config, { packagecloudToken: server.token });
  }, 2 * MINUTES);

  it(
    "up builds, verifies and publishes the deb; its outputs are what npm run plan predicts",
    async () => {
      const result = await stack.up();
      expect(result.summary.result).toBe("succeeded");
      const debPath = value(result.outputs, "debPath");
      expect(value(result.outputs, "debSha256")).toBe(sha256Of(debPath));

      const planned = JSON.parse(await npm(project, ["run", "--silent", "plan", "--", "snapshot", "--json"])) as {
        outputs: Record<string, unknown>;
      };
      for (const name of ["version", "debianVersion", "commit", "debPath", "debChecksums", "debLocations"]) {
        expect([name, result.outputs[name]?.value]).toEqual([name, planned.outputs[name]]);
      }

      const published = server.packages.filter((p) => p.filename === debPath.split("/").at(-1));
      expect(published.map((p) => p.sha256)).toEqual([sha256Of(debPath)]);
      const aptlyIndex = readFileSync(
        join(value(result.outputs, "debLocations")[1], "debian/dists/bookworm/main/binary-amd64/Packages"),
        "utf8",
      );
      expect(aptlyIndex).toContain(`Version: ${value(result.outputs, "debianVersion")}`);
    },
    10 * MINUTES,
  );

  it(
    "a second up with nothing changed changes nothing",
    async () => {
      const result = await stack.up();
      expect(Object.keys(result.summary.resourceChanges ?? {})).toEqual(["same"]);
    },
    5 * MINUTES,
  );

  it(
    "a stack written before the providers were bundled (each step's code serialised by the SDK): preview and up --refresh change nothing",
    async () => {
      const serialised = (module: string, name: string) => {
        const file = join(tempDir("ralph-release-provider-"), "provider.js");
        execFileSync("npx", ["tsx", "test/support/serializeProvider.ts", module, name, file], { cwd: PROJECT_DIR });
        return readFileSync(file, "utf8");
      };
      const before = {
        step: serialised("lib/steps/provider.ts", "pipelineStepProvider"),
        packagecloud: serialised("lib/publish/packagecloudProvider.ts", "packagecloudProvider"),
      };
      const exported = await stack.exportStack();
      const resources = exported.deployment.resources as { type: string; inputs: any; outputs: any }[];
      const dynamic = resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
      for (const resource of dynamic) {
        const code = resource.type.endsWith(":PackagecloudPackage") ? before.packagecloud : before.step;
        resource.inputs.__provider = resource.outputs.__provider = code;
      }
      expect(dynamic.map((r) => r.type)).toContain("pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage");
      await stack.importStack(exported);

      expect(await preview(stack)).toEqual([]);
      const refreshed = await stack.up({ refresh: true });
      expect(Object.keys(refreshed.summary.resourceChanges ?? {})).toEqual(["same"]);
    },
    5 * MINUTES,
  );

  it(
    "the same stack from another clone of the project, the checkout at another path: preview changes nothing",
    async () => {
      const laptop = engineProject({ sameBackendAs: project });
      const checkout = join(tempDir(), "src", "ralph");
      execFileSync("git", ["clone", "--quiet", repo.dir, checkout]);
      const there = await laptop.stack(
        "snapshot",
        { ...config, source: checkout },
        { packagecloudToken: server.token },
      );
      expect(await preview(there)).toEqual([]);
    },
    5 * MINUTES,
  );

  it(
    "up --target of the deb build (with its components, as the engine asks) on a stack with nothing else: builds the deb alone, the rest left out",
    async () => {
      const laptop = engineProject({ sameBackendAs: project });
      // A branch's stack, as npm run release makes one: named snapshot-<branch>, its mode set.
      const targeted = await laptop.stack(
        "snapshot-target",
        { ...config, mode: "snapshot" },
        { packagecloudToken: server.token },
      );
      const release = "urn:pulumi:snapshot-target::ralph-release::ralph:release:RalphRelease";
      const deb = `${release}$ralph:deb:DebPackage`;
      const events: EngineEvent[] = [];
      const result = await targeted.up({
        target: [`${release}::ralph`, `${deb}::ralph-core`, `${deb}$pulumi-nodejs:dynamic/deb:Build::ralph-core-build`],
        onEvent: (event) => events.push(event),
      });
      expect(result.summary.result).toBe("succeeded");
      // The pipeline's steps that ran (the components and the stack are only groupings).
      const ran = events
        .map((event) => event.resourcePreEvent?.metadata)
        .filter((step) => step && step.op !== "same" && step.type.startsWith("pulumi-nodejs:dynamic/"))
        .map((step) => `${step?.op} ${step?.urn.split("::").at(-1)}`);
      expect(ran).toEqual(["create ralph-core-build"]);
    },
    10 * MINUTES,
  );

  it(
    "up --refresh with everything in place: each step reads back what it made and nothing changes",
    async () => {
      const result = await stack.up({ refresh: true });
      expect(Object.keys(result.summary.resourceChanges ?? {})).toEqual(["same"]);
    },
    5 * MINUTES,
  );

  it(
    "one changed Ralph source file: preview lists the deb chain and nothing else; up converges",
    async () => {
      // Uncommitted first: the preview sees the change and leaves the checkout's .git as it was.
      repo.write("src/ralph/dc_view.py", "# being edited\n");
      const gitDir = directoryDigest(join(repo.dir, ".git"));
      expect(await preview(stack)).toContain("ralph-core-build");
      expect(directoryDigest(join(repo.dir, ".git")), "no object, index or lock written by a preview").toBe(gitDir);
      repo.commit("Fix the DC view", "src/ralph/dc_view.py");
      // The diff a reviewer reads says why the deb is built again: its commit and tree changed.
      const diff = (await stack.preview({ diff: true })).stdout;
      expect(diff).toMatch(/~ commit\s*: "[0-9a-f]{40}" => "[0-9a-f]{40}"/);
      expect(diff).toMatch(/~ tree\s*: "[0-9a-f]{40}" => "[0-9a-f]{40}"/);
      expect(await preview(stack)).toEqual([
        "ralph-core-aptly-publish",
        "ralph-core-build",
        "ralph-core-packagecloud",
        "ralph-core-verify",
        "ralph-supply-chain-attest",
      ]);
      const result = await stack.up();
      expect(result.summary.result).toBe("succeeded");
      expect(await preview(stack)).toEqual([]);
    },
    10 * MINUTES,
  );

  it(
    "an up interrupted during the deb build converges on the next up, uploading once, nothing pending",
    async () => {
      repo.commit("Add a rack view", "src/ralph/rack_view.py");
      const uploadsBefore = successfulUploads();
      const interrupted = await interruptDuringBuild(project);
      expect(interrupted.interruptedAt, interrupted.output).toMatch(/ralph-core-build/);
      expect(interrupted.code, interrupted.output).not.toBe(0);

      // Ctrl-C let the running build finish and recorded it: the next up carries on from there.
      const events: EngineEvent[] = [];
      const result = await stack.up({ onEvent: (event) => events.push(event) });
      expect(result.summary.result).toBe("succeeded");
      const taken = steps(events);
      // The build is not run again; the one it replaced, left by the cancelled up, is removed now.
      expect(taken["ralph-core-build"].every((op) => op.startsWith("delete") || op.startsWith("discard"))).toBe(true);
      expect(Object.keys(taken).sort()).toEqual([
        "ralph-core-aptly-publish",
        "ralph-core-build",
        "ralph-core-packagecloud",
        "ralph-core-verify",
        "ralph-supply-chain-attest",
      ]);
      const debFile = value(result.outputs, "debPath").split("/").at(-1) as string;
      expect(server.packages.filter((p) => p.filename === debFile)).toHaveLength(1);
      expect(successfulUploads() - uploadsBefore).toBe(1);
      expect(project.exportState("snapshot").deployment.pending_operations ?? []).toEqual([]);
      expect(await preview(stack)).toEqual([]);
    },
    15 * MINUTES,
  );

  it("keeps the packagecloud token out of plain text in the backend and the exported state", async () => {
    const exported = project.exportState("snapshot").text;
    expect(exported).not.toContain(server.token);
    // It is there, as a secret: encrypted with the stack's passphrase.
    expect(exported).toMatch(
      /"token":\s*\{\s*"4dabf18193072939515e22adb298388d":\s*"1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext":/,
    );
    for (const file of [...filesUnder(project.stateDir), join(project.dir, "Pulumi.snapshot.yaml")]) {
      expect([file, readFileSync(file, "utf8").includes(server.token)]).toEqual([file, false]);
    }
  });
});

/** `npm …` in the project copy with the engine's environment; resolves with stdout. */
async function npm(project: EngineProject, args: string[]): Promise<string> {
  const { status, stdout, stderr } = await npmStatus(project, args);
  if (status !== 0) throw new Error(`npm ${args.join(" ")}: ${stderr}`);
  return stdout;
}

/** `npm …` in the project copy, leaving this process free to serve what it asks (servers in the test). */
function npmStatus(
  project: EngineProject,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", args, { cwd: project.dir, env: { ...process.env, ...project.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** What drift.yml runs in the project copy: `npm run release -- release refresh --preview-only --json`. */
const driftReport = (project: EngineProject) =>
  npmStatus(project, ["run", "--silent", "release", "--", "release", "refresh", "--preview-only", "--json"]);

/**
 * `pulumi up` as a user runs it, interrupted with Ctrl-C (SIGINT to its process group, as a terminal
 * sends it) as soon as the deb build has started.
 */
function interruptDuringBuild(
  project: EngineProject,
): Promise<{ code: number | null; output: string; interruptedAt?: string }> {
  return new Promise((resolve) => {
    const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", "snapshot"], {
      cwd: project.dir,
      env: { ...process.env, ...project.env },
      detached: true,
    });
    let output = "";
    let interruptedAt: string | undefined;
    const watch = (chunk: Buffer) => {
      output += chunk.toString();
      const building = /ralph-core-build +(creating|updating|replacing)/.exec(output);
      if (!interruptedAt && building) {
        interruptedAt = building[0];
        // Far enough into the build for dpkg-buildpackage to be running.
        setTimeout(() => process.kill(-(child.pid as number), "SIGINT"), 5_000);
      }
    };
    child.stdout.on("data", watch);
    child.stderr.on("data", watch);
    child.on("close", (code) => resolve({ code, output, interruptedAt }));
  });
}

describe("release stack, deb only, under the real engine", () => {
  it(
    "publishes the tag's deb and its GitHub release: a maintainer's draft pre-release adopted, a run that dies after two uploads finished by the next, published last; npm run verify --github passes with the anchors and fails without; an asset replaced on GitHub refused; destroy forgets both and removes neither",
    async () => {
      const WORKFLOW = "https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/20241124.1";
      const github = await startGithubServer();
      const sigstore = await startMockSigstore();
      try {
        const project = engineProject();
        const repo = ralphFixtureRepo();
        const key = signingKey();
        const armored = armoredSecretKey(key);
        // A line of the secret key's material: it must appear nowhere in plain text.
        const keyMaterial = armored.split("\n").find((line) => line.length === 64) ?? expect.fail("no key material");
        // Keyless as in the publish workflow: its token names the repository and the tag's ref.
        project.env.SIGSTORE_ID_TOKEN = identityToken(WORKFLOW, undefined, {
          repository: "allegro/ralph",
          ref: "refs/tags/20241124.1",
        });
        // The maintainer drafted the release by hand, as a pre-release, with their own words.
        const drafted = github.seedRelease({
          tag_name: "20241124.1",
          target_commitish: "ng",
          name: "Ralph 20241124.1 — racks and DC views",
          body: "Highlights, by hand.",
          draft: true,
          prerelease: true,
        });
        // The third upload fails past every retry: the first up dies with two assets up.
        github.fail("upload-asset", { status: 502 }, 4, 2);
        const stack = await project.stack(
          "release",
          {
            ...debOnlyToBoth(repo),
            debTargets: "packagecloud",
            packagecloudRepository: "allegro/ralph-releases",
            githubApiUrl: github.url,
            sigstoreFulcioUrl: sigstore.fulcioUrl,
            sigstoreRekorUrl: sigstore.rekorUrl,
          },
          { packagecloudToken: server.token, githubToken: github.token, gpgSigningKey: armored },
        );
        const died = await stack.up().catch((error: Error) => error);
        expect(String(died)).toMatch(/GitHub: uploading \S+ failed \(502/);
        expect(drafted).toMatchObject({ draft: true, prerelease: true });
        expect(drafted.assets).toHaveLength(2);

        const writesBefore = github.requests.filter((r) => r.method !== "GET").length;
        const result = await stack.up();
        expect(result.summary.result).toBe("succeeded");
        expect(value(result.outputs, "version")).toBe("20241124.1");
        const debFile = "ralph-core_20241124.1_amd64.deb";
        const isRelease = (p: { filename: string; repository: string }) =>
          p.filename === debFile && p.repository === "allegro/ralph-releases";
        expect(server.packages.filter(isRelease).map((p) => p.sha256)).toEqual([value(result.outputs, "debSha256")]);
        // Every asset once, the five the first run did not get uploaded by the second, then published.
        const assets = drafted.assets.map((asset) => asset.name).sort();
        expect(assets).toEqual(
          [
            debFile,
            "ralph-core_20241124.1_amd64.cdx.json",
            "provenance.intoto.json",
            "provenance.sigstore.json",
            "SHA256SUMS",
            "SHA256SUMS.asc",
            "SHA256SUMS.key.asc",
          ].sort(),
        );
        const writes = github.requests.filter((r) => r.method !== "GET").slice(writesBefore);
        expect(writes.map((r) => `${r.route} ${r.status}`)).toEqual([
          ...Array(5).fill("upload-asset 201"),
          "update-release 200",
        ]);
        expect(writes.at(-1)?.body).toMatchObject({ draft: false });
        expect(drafted).toMatchObject({
          draft: false,
          prerelease: true,
          name: "Ralph 20241124.1 — racks and DC views",
        });
        expect(drafted.body).toMatch(/^Highlights, by hand\.\n\n<!-- ralph-release:artifacts -->\nRalph 20241124\.1\n/);
        expect(drafted.body).toContain(`--identity ${WORKFLOW} --trusted-root trusted_root.json`);
        expect(value(result.outputs, "githubReleaseUrl")).toBe(`${github.url}/allegro/ralph/releases/tag/20241124.1`);

        // A user with none of build/: the release's assets, checked against the release key and the workflow.
        const trustedRoot = join(tempDir(), "trusted_root.json");
        writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRoot));
        const verifyGithub = (anchors: string[]) =>
          npmStatus({ ...project, env: { ...project.env, GITHUB_API_URL: github.url } }, [
            "run",
            "--silent",
            "verify",
            "--",
            "20241124.1",
            "--github",
            "allegro/ralph",
            ...anchors,
          ]);
        const verified = await verifyGithub([
          ...["--gpg-key", publicKeyFile(key), "--identity", WORKFLOW, "--trusted-root", trustedRoot],
        ]);
        expect(verified.status, verified.stdout + verified.stderr).toBe(0);
        expect(verified.stdout).toMatch(/^All \d+ checks passed: the GitHub release allegro\/ralph 20241124\.1$/m);
        expect(verified.stdout).toContain("✓ provenance version: of 20241124.1");
        const unanchored = await verifyGithub([]);
        expect(unanchored.status).toBe(1);
        expect(unanchored.stdout).toMatch(/^✗ trust anchor: no trust anchor/m);
        const fork = await verifyGithub([
          ...["--identity", WORKFLOW.replace("allegro/", "someone/"), "--trusted-root", trustedRoot],
        ]);
        expect(fork.status).toBe(1);
        expect(fork.stdout).toMatch(
          /^✗ signature provenance\.sigstore\.json: signed by https:\/\/github\.com\/allegro/m,
        );

        // An asset replaced on GitHub by hand: the refresh records it, the next up refuses, naming it.
        github.replaceAsset(drafted, "provenance.intoto.json", Buffer.from("{}"));
        const drift = await driftReport(project);
        expect(drift.status, drift.stderr).toBe(3);
        expect(JSON.parse(drift.stdout).drifted).toEqual(["ralph-github-release-publish"]);
        const refused = await stack.up({ refresh: true }).catch((error: Error) => error);
        expect(String(refused)).toContain(
          "provenance.intoto.json on the release is sha256 44136fa355b3…, this build's is",
        );
        expect(github.requests.filter((r) => r.route === "upload-asset" && r.status === 201)).toHaveLength(7);

        const destroyed = await stack.destroy();
        expect(destroyed.summary.result).toBe("succeeded");
        expect(server.packages.filter(isRelease)).toHaveLength(1);
        const releaseYanks = server.requests.filter(
          (r) => r.route === "yank" && r.path.startsWith("/api/v1/repos/allegro/ralph-releases/"),
        );
        expect(releaseYanks).toEqual([]);
        expect(github.releases).toHaveLength(1);
        expect(github.requests.filter((r) => r.route === "delete-asset")).toEqual([]);
        const state = project.exportState("release");
        expect(state.deployment.resources ?? []).toEqual([]);
        for (const file of filesUnder(project.stateDir)) {
          const text = readFileSync(file, "utf8");
          const leaked = [server.token, github.token, keyMaterial].filter((secret) => text.includes(secret));
          expect([file, leaked]).toEqual([file, []]);
        }
      } finally {
        await github.close();
        await sigstore.close();
      }
    },
    20 * MINUTES,
  );
});

describe("a released version is published once, under the real engine", () => {
  const WORKFLOW = "https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/20241124.1";
  const images = ["ralph", "ralph-static-nginx", "inkpy"];
  const namespace = `engine${Date.now()}`;
  let sigstore: MockSigstore;
  let github: GithubServer;
  let apt: Awaited<ReturnType<typeof serveDirectory>>;
  let trustedRoot = "";
  let gpgPublicKey = "";
  let config: Record<string, string>;
  let key: ReturnType<typeof signingKey>;
  /** The machine that released, and what its first up reported: every later scenario starts from it. */
  let machine: EngineProject;
  let first: UpResult;
  let refs: Record<string, string>;

  beforeAll(async () => {
    sigstore = await startMockSigstore();
    github = await startGithubServer();
    trustedRoot = join(tempDir(), "trusted_root.json");
    writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRoot));
    const repo = ralphFixtureRepo();
    key = signingKey();
    const aptlyRoot = join(tempDir("ralph-release-aptly-"), "aptly");
    apt = await serveDirectory(`${aptlyRoot}/public`);
    // The whole release: the deb to a signed aptly repository, the images (ralph installed from it)
    // to the local registry. Images are built by the pipeline's own steps: no provider plugin.
    config = {
      source: repo.dir,
      distribution: "debian/bookworm",
      baseImage: BASE_IMAGE,
      nginxImage: BASE_IMAGE,
      // In the builder the build path is fixed: the same commit gives the same deb.
      builder: "container",
      pipArgs: "--no-index --no-build-isolation",
      inkpySource: INKPY_CHECKOUT,
      registry: "127.0.0.1:5000",
      imageNamespace: namespace,
      debTargets: "aptly",
      aptlyRoot,
      aptlyUrl: apt.url,
      aptlyGpgKey: key.keyId,
      // The GitHub release on the contract server: none there yet, so the pipeline drafts it.
      githubApiUrl: github.url,
      // Keyless, as in the publish workflow: the CI's identity, Sigstore's services on loopback.
      sigstoreFulcioUrl: sigstore.fulcioUrl,
      sigstoreRekorUrl: sigstore.rekorUrl,
    };
    gpgPublicKey = join(tempDir(), "apt.asc");
    writeFileSync(gpgPublicKey, execFileSync("gpg", ["--homedir", key.gnupgHome, "--armor", "--export", key.keyId]));
  });
  afterAll(async () => {
    await apt?.close();
    await sigstore?.close();
    await github?.close();
  });

  /** `npm run verify` as a user runs it in the project that built 20241124.1, with the apt key and the workflow's identity. */
  const verifyArgs = (extra: string[] = [], withAptKey = true) => [
    ...["run", "--silent", "verify", "--", "20241124.1"],
    ...(withAptKey ? ["--gpg-key", gpgPublicKey] : []),
    ...["--identity", WORKFLOW, "--trusted-root", trustedRoot, ...extra],
  ];
  const verifyCli = (projectDir: string, extra: string[] = []) =>
    spawnSync("npm", verifyArgs(extra), { cwd: projectDir, encoding: "utf8" });
  /** The same, leaving this process free to serve what verify asks (a registry running in the test). */
  const verifyCliAsync = (projectDir: string, withAptKey = true) =>
    new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn("npm", verifyArgs([], withAptKey), { cwd: projectDir });
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.on("close", (status) => resolve({ status, stdout }));
    });
  const releaseOn = async (
    project: EngineProject,
    settings = config,
    options: { refresh?: boolean; secrets?: Record<string, string> } = {},
  ) => {
    project.env.GNUPGHOME = key.gnupgHome;
    project.env.SIGSTORE_ID_TOKEN = identityToken(WORKFLOW, undefined, {
      repository: "allegro/ralph",
      ref: "refs/tags/20241124.1",
    });
    const events: EngineEvent[] = [];
    const stack = await project.stack("release", settings, { githubToken: github.token, ...options.secrets });
    const result = await stack
      .up({ onEvent: (event) => events.push(event), refresh: options.refresh })
      .catch((error: Error) => error);
    // The pipeline's steps that started (components are only groupings).
    const ran = events
      .map((event) => event.resourcePreEvent?.metadata)
      .filter(
        (step) => step && !["same", "refresh"].includes(step.op) && step.type.startsWith("pulumi-nodejs:dynamic/"),
      )
      .map((step) => step?.urn.split("::").at(-1) as string);
    const said = events.flatMap((event) => (event.diagnosticEvent ? [event.diagnosticEvent.message] : []));
    return { result, ran, said };
  };
  // Tags written; the attestations' manifests (pushed by digest) are not pushes of an image.
  const puts = () => images.reduce((sum, image) => sum + tagPuts(`${namespace}/${image}`, ["20241124.1", "latest"]), 0);
  /** The first release's result, for the scenarios that start from it. */
  const released = () => first ?? expect.fail("the first release did not succeed (see the test before)");

  it(
    "the first up pushes each image's version and latest once; npm run verify passes every check",
    async () => {
      machine = engineProject();
      const up = await releaseOn(machine);
      if (up.result instanceof Error) throw up.result;
      first = up.result;
      refs = first.outputs.imageRefs.value as Record<string, string>;
      for (const image of images) {
        expect(refs[image]).toBe(
          `127.0.0.1:5000/${namespace}/${image}@${await registry.digest(`${namespace}/${image}`, "20241124.1")}`,
        );
      }
      expect(puts()).toBe(6); // version and latest of each image

      // What a user runs before installing: every check passes, keyless bundles for the workflow.
      const attested = first.outputs.attestations.value as {
        sigstoreSigning: string;
        attached: object;
        files: string[];
      };
      expect(attested.sigstoreSigning).toBe("keyless");
      expect(Object.keys(attested.attached).sort()).toEqual([...images].sort());
      const verified = verifyCli(machine.dir);
      expect(verified.status, verified.stdout).toBe(0);
      for (const check of [
        "✓ signature SHA256SUMS.asc: good",
        "✓ signature provenance.sigstore.json: good, identity",
        "✓ sbom ralph-core_20241124.1_amd64.cdx.json",
      ])
        expect(verified.stdout).toContain(check);
      for (const image of images) {
        expect(verified.stdout).toContain(`✓ image 127.0.0.1:5000/${namespace}/${image}:20241124.1`);
        expect(verified.stdout).toContain(`✓ bundle ${image}: attached`);
      }
      // The ralph image's SBOM lists the venv ralph-core put there.
      const artifactDir = dirname(value(first.outputs, "debPath"));
      const ralphSbom = JSON.parse(readFileSync(join(artifactDir, "ralph.cdx.json"), "utf8"));
      expect(ralphSbom.components.map((c: { purl: string }) => c.purl)).toContain("pkg:pypi/ralph@3.0.0");

      // The GitHub release: drafted, every supply-chain file uploaded once, published last.
      const [release] = github.releases;
      const writes = github.requests.filter((r) => r.method !== "GET");
      expect(writes[0]).toMatchObject({ route: "create-release", status: 201, body: { draft: true } });
      const uploads = writes.filter((r) => r.route === "upload-asset");
      expect(uploads.map((r) => r.status)).toEqual(Array(13).fill(201));
      expect(writes.at(-1)).toMatchObject({ route: "update-release", body: { draft: false } });
      expect(release).toMatchObject({ tag_name: "20241124.1", name: "Ralph 20241124.1", draft: false });
      expect(release.assets.map((asset) => asset.name).sort()).toEqual(
        [...attested.files, "SHA256SUMS", "SHA256SUMS.asc", "SHA256SUMS.key.asc"].sort(),
      );
    },
    25 * MINUTES,
  );

  it("one changed byte in the released deb (a copy of its build directory): its sum's line fails", () => {
    const artifactDir = dirname(value(released().outputs, "debPath"));
    const tampered = join(tempDir("ralph-release-tampered-"), "20241124.1");
    cpSync(artifactDir, tampered, { recursive: true });
    const deb = join(tampered, "ralph-core_20241124.1_amd64.deb");
    const bytes = readFileSync(deb);
    bytes[bytes.length >> 1] ^= 0x01;
    writeFileSync(deb, bytes);
    const onTampered = verifyCli(machine.dir, ["--dir", tampered]);
    expect(onTampered.status).toBe(1);
    expect(onTampered.stdout).toMatch(/^✗ sha256 ralph-core_20241124\.1_amd64\.deb: sha256 [0-9a-f]{64}, listed /m);
    expect(onTampered.stdout).toContain("✓ signature SHA256SUMS.asc");
  });

  it(
    "the state lost on the machine that released: adopted, the deb rebuilt to the same bytes, nothing pushed twice",
    async () => {
      // The state is lost; build/ on this machine is not. The checks find what was published is
      // what this machine made: the deb is rebuilt to the same bytes, the images are pushed nowhere.
      const lostState = await releaseOn(engineProject({ sameMachineAs: machine }));
      if (lostState.result instanceof Error) throw lostState.result;
      expect(lostState.result.outputs.imageRefs.value).toEqual(refs);
      expect(lostState.result.outputs.debSha256.value).toBe(released().outputs.debSha256.value);
      expect(puts()).toBe(6);
      // The GitHub release is found by its tag and its deb: its published set kept, nothing uploaded.
      expect(lostState.ran).toContain("ralph-github-release-publish");
      expect(github.releases).toHaveLength(1);
      expect(github.requests.filter((r) => r.route === "upload-asset")).toHaveLength(13);
      expect(lostState.said.join("")).toContain("published with this very deb; this run made the file again");
    },
    15 * MINUTES,
  );

  it(
    "another machine with no state: refused by the checks, naming each image and the deb, before anything is built",
    async () => {
      released();
      const elsewhere = await releaseOn(engineProject());
      expect(elsewhere.result).toBeInstanceOf(Error);
      for (const image of images) {
        const digest = refs[image].split("@")[1];
        expect(String(elsewhere.result)).toContain(
          `127.0.0.1:5000/${namespace}/${image}:20241124.1 is already published as ${digest}, and this stack has no record of pushing it`,
        );
      }
      expect(String(elsewhere.result)).toMatch(
        /ralph-core_20241124\.1_amd64\.deb is already published on aptly .* no record of building it/,
      );
      expect(
        elsewhere.ran.filter((name) => name.startsWith("ralph-core-") || name.startsWith("ralph-images-")),
      ).toEqual([]);
      expect(puts()).toBe(6);
    },
    10 * MINUTES,
  );

  it(
    "ralph's version tag moved to another image: verify fails its image line; this machine refuses before building, naming both digests",
    async () => {
      released();
      await docker("tag", BASE_IMAGE, `127.0.0.1:5000/${namespace}/ralph:20241124.1`);
      await docker("push", "--quiet", `127.0.0.1:5000/${namespace}/ralph:20241124.1`);
      const moved = await registry.digest(`${namespace}/ralph`, "20241124.1");
      const afterMove = verifyCli(machine.dir);
      expect(afterMove.status).toBe(1);
      expect(afterMove.stdout).toContain(
        `✗ image 127.0.0.1:5000/${namespace}/ralph:20241124.1: the registry serves ${moved}, the provenance names ${refs.ralph.split("@")[1]}`,
      );
      const overMoved = await releaseOn(engineProject({ sameMachineAs: machine }));
      expect(String(overMoved.result)).toContain(
        `127.0.0.1:5000/${namespace}/ralph:20241124.1 is already published as ${moved}, and this stack recorded pushing ${refs.ralph.split("@")[1]}`,
      );
      expect(
        overMoved.ran.filter((name) => name.startsWith("ralph-core-") || name.startsWith("ralph-images-")),
      ).toEqual([]);
    },
    10 * MINUTES,
  );

  it(
    "the moved tag seen by the releasing stack: refresh names the push, up refuses it saying how to put it back; put back, up changes nothing",
    async () => {
      released();
      const moved = await registry.digest(`${namespace}/ralph`, "20241124.1");
      const ours = refs.ralph.split("@")[1];
      expect(moved).not.toBe(ours);
      const stack = await machine.stack("release", config);
      // What drift.yml runs: names the push, writes nothing, exits 3.
      const drift = await driftReport(machine);
      expect(drift.status, drift.stderr).toBe(3);
      expect(JSON.parse(drift.stdout).drifted).toEqual(["ralph-images-ralph-push"]);
      const refreshEvents: EngineEvent[] = [];
      await stack.refresh({ onEvent: (event) => refreshEvents.push(event) });
      // What the refresh found changed: the push of the moved tag, nothing else.
      const found = refreshEvents
        .map((event) => event.resOutputsEvent?.metadata)
        .filter((step) => step?.op === "update")
        .map((step) => step?.urn.split("::").at(-1));
      expect(found).toEqual(["ralph-images-ralph-push"]);
      const pushState = (await stack.exportStack()).deployment.resources.find((r: { urn: string }) =>
        r.urn.endsWith("::ralph-images-ralph-push"),
      );
      expect(JSON.parse(pushState.outputs.stdout).drift).toBe(
        `127.0.0.1:5000/${namespace}/ralph:20241124.1 serves ${moved}; this stack pushed ${ours}`,
      );
      const refused = await stack.up().catch((error: Error) => error);
      expect(refused).toBeInstanceOf(Error);
      const putBack = `skopeo copy docker://127.0.0.1:5000/${namespace}/ralph@${ours} docker://127.0.0.1:5000/${namespace}/ralph:20241124.1`;
      expect(String(refused)).toContain(`put it back: ${putBack}`);
      // As the message says (the test registry is plain HTTP on loopback).
      const [, ...args] = putBack.split(" ");
      execFileSync("skopeo", [
        args[0],
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        ...args.slice(1),
      ]);
      expect(await registry.digest(`${namespace}/ralph`, "20241124.1")).toBe(ours);
      const putsBefore = puts();
      await stack.refresh();
      const settled = await stack.up();
      expect(settled.summary.result).toBe("succeeded");
      expect(Object.keys(settled.summary.resourceChanges ?? {})).toEqual(["same"]);
      expect(puts()).toBe(putsBefore);
    },
    10 * MINUTES,
  );

  it(
    "up --refresh on the machine that released, build/ gone: the deb rebuilt in its builder to the same bytes, attested again, nothing pushed",
    async () => {
      const artifactDir = dirname(value(released().outputs, "debPath"));
      rmSync(artifactDir, { recursive: true, force: true });
      const putsBefore = puts();
      const events: EngineEvent[] = [];
      const stack = await machine.stack("release", config);
      const result = await stack.up({ refresh: true, onEvent: (event) => events.push(event) });
      expect(steps(events)).toEqual({
        "ralph-core-build": ["create"],
        "ralph-images-ralph-context": ["create"],
        "ralph-supply-chain-attest": ["create"],
      });
      expect(sha256Of(value(result.outputs, "debPath"))).toBe(value(released().outputs, "debSha256"));
      expect(result.outputs.imageRefs.value).toEqual(refs);
      expect(puts()).toBe(putsBefore);
      const verified = verifyCli(machine.dir);
      expect(verified.status, verified.stdout).toBe(0);
    },
    15 * MINUTES,
  );

  it(
    "the release's package taken out of the aptly publication by hand: refresh --preview-only names the publish, up refuses to put it back; put back by hand, up changes nothing",
    async () => {
      released();
      const { repository, prefix } = aptlyPublicationFor("release", "debian", "bookworm");
      const aptly = (...args: string[]) =>
        execFileSync("aptly", [`-config=${join(config.aptlyRoot, "aptly.conf")}`, ...args], {
          env: { ...process.env, GNUPGHOME: key.gnupgHome },
          stdio: "pipe",
        });
      aptly("repo", "remove", repository, "ralph-core");
      aptly("publish", "update", `-gpg-key=${key.keyId}`, "bookworm", prefix);
      const drift = await driftReport(machine);
      expect(drift.status, drift.stderr).toBe(3);
      expect(JSON.parse(drift.stdout).drifted).toEqual(["ralph-core-aptly-publish"]);
      const stack = await machine.stack("release", config);
      await stack.refresh();
      const refused = await stack.up().catch((error: Error) => error);
      expect(String(refused)).toContain(
        "ralph-core_20241124.1_amd64 is gone from the aptly publication debian bookworm; this stack published it",
      );
      expect(String(refused)).toContain("A release's package is not published again behind its maintainers' back");
      // The maintainers put it back themselves (the deb this stack built): refresh sees it, nothing runs.
      aptly("repo", "add", repository, value(released().outputs, "debPath"));
      aptly("publish", "update", `-gpg-key=${key.keyId}`, "bookworm", prefix);
      await stack.refresh();
      const settled = await stack.up();
      expect(Object.keys(settled.summary.resourceChanges ?? {})).toEqual(["same"]);
    },
    10 * MINUTES,
  );

  it(
    "a release on the default targets (packagecloud) that dies when the registry refuses a push after ralph's version tag is written, finished on a fresh runner (another directory, empty build/, no local images, the same backend) by up --refresh: every tag and the upload once, pushed images pulled back by digest",
    async () => {
      released();
      const resumeNamespace = `${namespace}resume`;
      // The registry refuses the first manifest of ralph-static-nginx: its push fails having written
      // nothing; ralph's and inkpy's, running beside it, complete.
      let refusedOnce = false;
      const faulty = await startFaultyRegistry((method, path) => {
        if (refusedOnce || method !== "PUT" || !path.startsWith(`/v2/${resumeNamespace}/ralph-static-nginx/manifests/`))
          return false;
        return (refusedOnce = true);
      });
      // packagecloud's default repository, served as apt serves it, indexing each upload 3 s late.
      const packagecloud = await startPackagecloudServer({ apt: true, indexDelayMs: 3_000 });
      try {
        // The default deb target: no debTargets and no aptly; packagecloud at the contract server.
        const { debTargets, aptlyRoot, aptlyUrl, aptlyGpgKey, ...defaults } = config;
        const settings = {
          ...defaults,
          githubRelease: "false",
          registry: faulty.host,
          imageNamespace: resumeNamespace,
          packagecloudUrl: packagecloud.url,
          packagecloudGpgKey: packagecloud.keyFingerprint!,
        };
        // Without aptly there is no keyring key to sign with: the release's own key, as a secret.
        const secrets = { packagecloudToken: packagecloud.token, gpgSigningKey: armoredSecretKey(key) };
        const runner = engineProject();
        const died = await releaseOn(runner, settings, { secrets });
        expect(died.result).toBeInstanceOf(Error);
        expect(faulty.refused, String(died.result)).toHaveLength(1);
        expect(tagPuts(`${resumeNamespace}/ralph`, ["20241124.1"])).toBe(1);
        // The ralph image installed ralph-core=20241124.1 from packagecloud's apt repository, once the
        // index wait saw it listed (3 s after the upload).
        const debFile = "ralph-core_20241124.1_amd64.deb";
        expect(packagecloud.aptRequests).toContain(`/allegro/ralph/debian/pool/bookworm/main/r/ralph-core/${debFile}`);
        const diedState = runner.exportState("release").deployment.resources as StateResource[];
        expect(stepResult(diedState, "ralph-core-index-poll").waitedMs).toBeGreaterThanOrEqual(2_500);

        // A fresh runner: another project directory, an empty build/, none of the images the first
        // run built (deb builder included) in the container engine, the same backend.
        const builtIds = diedState
          .filter(
            (r) => r.type === "pulumi-nodejs:dynamic/images:Build" || r.type === "pulumi-nodejs:dynamic/deb:Builder",
          )
          .map((r) => (JSON.parse(r.outputs.stdout) as { id: string }).id);
        expect(builtIds).toHaveLength(5);
        await docker("image", "rm", "--force", ...new Set(builtIds));
        const fresh = engineProject({ sameBackendAs: runner });
        const resumed = await releaseOn(fresh, settings, { refresh: true, secrets });
        if (resumed.result instanceof Error) throw resumed.result;
        expect(resumed.result.summary.result).toBe("succeeded");
        // The record the program read from the state as it began, after the refresh dropped the deb
        // build (gone from build/): the two version tags the died run wrote, the deb packagecloud got.
        const debSha256 = stepResult(diedState, "ralph-core-build").sha256;
        expect(resumed.said.join("")).toContain(
          `this stack's state records 2 version tags pushed and ralph-core 20241124.1 (sha256 ${debSha256})`,
        );
        // The static image is pushed; ralph's and inkpy's pushes are their own, adopted.
        expect(resumed.ran).toContain("ralph-images-ralph-static-nginx-push");
        expect(resumed.ran).not.toContain("ralph-images-ralph-push");
        expect(resumed.ran).not.toContain("ralph-images-inkpy-push");
        // Their images came back from the registry by digest, the very images the first run built.
        const freshState = fresh.exportState("release").deployment.resources as StateResource[];
        for (const image of ["ralph", "inkpy"]) {
          const digest = await registry.digest(`${resumeNamespace}/${image}`, "20241124.1");
          expect(stepResult(freshState, `ralph-images-${image}`)).toMatchObject({
            id: stepResult(diedState, `ralph-images-${image}`).id,
            adopted: `${faulty.host}/${resumeNamespace}/${image}@${digest}`,
          });
        }
        expect(stepResult(freshState, "ralph-images-ralph-static-nginx").adopted).toBeUndefined();
        expect(resumed.result.outputs.debSha256.value).toBe(debSha256);
        for (const image of images) {
          for (const tag of ["20241124.1", "latest"]) {
            expect([image, tag, tagPuts(`${resumeNamespace}/${image}`, [tag])]).toEqual([image, tag, 1]);
          }
        }
        const uploads = packagecloud.requests.filter((r) => r.route === "upload" && r.status === 201);
        expect(uploads).toHaveLength(1);
        expect(packagecloud.packages.map((p) => p.filename)).toEqual([debFile]);
        // The registry is this test's proxy: verify runs beside it, not blocking it. The sums are
        // signed with gpgSigningKey, the same key as aptly's here: checked with its public half.
        const verified = await verifyCliAsync(fresh.dir);
        expect(verified.status, verified.stdout).toBe(0);

        // Drift: the release's deb yanked on packagecloud by hand. What drift.yml runs names it, the
        // refresh records it, and the next up refuses to send it again.
        const yank = await fetch(`${packagecloud.url}/api/v1/repos/allegro/ralph/debian/bookworm/${debFile}`, {
          method: "DELETE",
          headers: { authorization: `Basic ${Buffer.from(`${packagecloud.token}:`).toString("base64")}` },
        });
        expect(yank.status).toBe(200);
        const drift = await driftReport(fresh);
        expect(drift.status, drift.stderr).toBe(3);
        expect(JSON.parse(drift.stdout).drifted).toEqual(["ralph-core-packagecloud"]);
        const stack = await fresh.stack("release", settings, secrets);
        await stack.refresh();
        const refused = await stack.up().catch((error: Error) => error);
        expect(String(refused)).toContain(
          `${debFile} was yanked from allegro/ralph/debian/bookworm after this stack published it; a release's package is not sent again`,
        );
        expect(packagecloud.requests.filter((r) => r.route === "upload")).toHaveLength(1);
      } finally {
        await faulty.close();
        await packagecloud.close();
      }
    },
    25 * MINUTES,
  );
});

interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly outputs: { readonly stdout: string };
}

/** The JSON result of the step named `name` in an exported state. */
function stepResult(resources: StateResource[], name: string) {
  const step = resources.find((r) => r.urn.endsWith(`::${name}`));
  if (!step) throw new Error(`no ${name} in the state`);
  return JSON.parse(step.outputs.stdout);
}
