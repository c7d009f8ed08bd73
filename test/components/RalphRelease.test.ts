import { afterAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { RalphRelease } from "../../components/RalphRelease";
import { readStackInputs } from "../../components/stackInputs";
import { expandPaths, type MachineRoots } from "../../lib/steps/machineRoots";
import { PROJECT_DIR } from "../support/containers";
import { GitRepo, removeTempDirs } from "../support/gitRepo";
import { isSecret, RELEASE_SETTINGS, resolve, SECRET_KEYS, useStack } from "../support/pulumi";

afterAll(removeTempDirs);

interface Declared {
  readonly name: string;
  readonly opts: pulumi.CustomResourceOptions;
  readonly props: Record<string, unknown>;
}

/** Declares RalphRelease for `stack` under mocks and records every child's name, inputs and options. */
async function declare(stack: "snapshot" | "release", config: Record<string, string>) {
  const repo = GitRepo.init();
  repo.commit("initial");
  repo.tag("20241120.1");
  await useStack(stack, { source: repo.dir, ...RELEASE_SETTINGS, ...config }, SECRET_KEYS);
  const declared: Declared[] = [];
  const release = new RalphRelease(
    "ralph",
    { ...readStackInputs(), projectDir: PROJECT_DIR },
    {
      transformations: [
        (args) => {
          declared.push({ name: args.name, opts: args.opts, props: args.props });
          return undefined;
        },
      ],
    },
  );
  await resolve(release.version);
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  // A component and its main child may share a name: the child, declared later, is the one asked for.
  const named = (name: string) => declared.findLast((d) => d.name === name) ?? expect.fail(`${name} not declared`);
  /** Names of the resources `name` waits for. */
  const dependsOn = async (name: string) => {
    const deps = (named(name).opts.dependsOn ?? []) as pulumi.Resource[];
    const urns = await Promise.all(deps.map((d) => resolve(d.urn)));
    return urns.map((urn) => urn.split("::").at(-1));
  };
  return { declared, named, dependsOn };
}

/** A declared step's request, resolved, with this machine's paths. */
async function requestOf(step: Declared): Promise<any> {
  const roots = (step.props.machine as { roots: MachineRoots }).roots;
  return expandPaths(await resolve(step.props.request as pulumi.Output<unknown>), roots);
}

const PACKAGECLOUD_KEY = "0123456789ABCDEF0123456789ABCDEF01234567";
const BOTH = {
  debTargets: "packagecloud,aptly",
  aptlyUrl: "https://apt.example.com/ralph",
  aptlyGpgKey: "0123ABCD",
  packagecloudGpgKey: PACKAGECLOUD_KEY.toLowerCase(),
};

describe("RalphRelease: publishing the deb", () => {
  it("release: both targets retained on destroy, never yanked; the ralph image waits for the index", async () => {
    const { named, dependsOn } = await declare("release", BOTH);
    expect(named("ralph-core-packagecloud").opts.retainOnDelete).toBe(true);
    expect(named("ralph-core-packagecloud").props.yankOnDelete).toBe(false);
    expect(named("ralph-core-aptly").opts.retainOnDelete).toBe(true);
    // Installable means: every target has it (both published) and the first one's index lists it.
    expect(await dependsOn("ralph-core-index-poll")).toEqual(["ralph-core-packagecloud", "ralph-core-aptly"]);
    expect(await requestOf(named("ralph-core-index-poll"))).toEqual({
      baseUrl: "https://packagecloud.io/allegro/ralph/ubuntu",
      release: "jammy",
      packageName: "ralph-core",
      version: "20241120.1",
      deadlineMs: 600_000,
    });
    expect(await dependsOn("ralph-images-ralph")).toContain("ralph-core-index-poll");
    // The image trusts packagecloud's downloaded key only with the configured fingerprint.
    const args = ((await requestOf(named("ralph-images-ralph"))) as { buildArgs: Record<string, string> }).buildArgs;
    expect(args.APT_KEY_FINGERPRINT).toBe(PACKAGECLOUD_KEY);
  });

  it("release from aptly alone: the image installs from the served aptly tree", async () => {
    const { named, declared } = await declare("release", { ...BOTH, debTargets: "aptly" });
    expect(declared.some((d) => d.name === "ralph-core-packagecloud")).toBe(false);
    const args = ((await requestOf(named("ralph-images-ralph"))) as { buildArgs: Record<string, string> }).buildArgs;
    expect(args.APT_SOURCE).toBe("https://apt.example.com/ralph/ubuntu/ jammy main");
    expect(args.APT_KEY_URL).toBe("https://apt.example.com/ralph/gpgkey");
    // The pin is what the aptly step reports of the key it signed with (here as the mocks predict it).
    expect(args.APT_KEY_FINGERPRINT).toBe("<fingerprint of 0123ABCD>");
  });

  it("snapshot: packagecloud packages may be yanked, nothing is retained, nothing waits for an index", async () => {
    const { named, declared } = await declare("snapshot", { debTargets: "packagecloud,aptly" });
    expect(named("ralph-core-packagecloud").opts.retainOnDelete).toBe(false);
    expect(named("ralph-core-packagecloud").props.yankOnDelete).toBe(true);
    expect(named("ralph-core-aptly").opts.retainOnDelete).toBe(false);
    expect(declared.some((d) => d.name.startsWith("ralph-core-index"))).toBe(false);
  });
});

describe("RalphRelease: supply chain", () => {
  const KEY = "-----BEGIN PRIVATE KEY-----\nsigning-4711\n-----END PRIVATE KEY-----";

  it("release: attests after every push, with the aptly key for SHA256SUMS and the signing key as a secret only", async () => {
    const { named, dependsOn } = await declare("release", { ...BOTH, signingKey: KEY });
    const step = named("ralph-supply-chain-attest");
    expect(await dependsOn("ralph-supply-chain-attest")).toEqual(["ralph-images"]);
    const request = await requestOf(step);
    expect(request).toMatchObject({
      gpgKey: "0123ABCD",
      distro: "ubuntu",
      sigstore: { fulcioUrl: "https://fulcio.sigstore.dev" },
    });
    expect(request.provenance.ralph).toMatchObject({
      repository: "https://github.com/allegro/ralph",
      version: "20241120.1",
    });
    expect(request.images.map((i: { name: string; pushedRef: string }) => [i.name, i.pushedRef.split("@")[0]])).toEqual(
      [
        ["ralph", "docker.io/allegro/ralph"],
        ["ralph-static-nginx", "docker.io/allegro/ralph-static-nginx"],
        ["inkpy", "docker.io/allegro/inkpy"],
      ],
    );
    expect(request.images[0].venvs).toEqual(["/opt/ralph"]);
    // No secret in the request; the key and the password reach the step only as its secret environment.
    expect(JSON.stringify(request)).not.toMatch(/signing-4711|pw-4711/);
    const runtime = step.props.runtimeEnvironment as pulumi.Output<Record<string, string>>;
    expect(await isSecret(runtime)).toBe(true);
    expect(await resolve(runtime)).toMatchObject({ RALPH_SIGNING_KEY: KEY, RALPH_REGISTRY_PASSWORD: "pw-4711" });
  });

  it("a bad signing key is refused by name before anything is declared, without its value", async () => {
    await expect(declare("release", { signingKey: "not-a-key-4711" })).rejects.toThrow(
      /signingKey: is not a PEM private key/,
    );
    await expect(declare("release", { signingKey: "not-a-key-4711" })).rejects.not.toThrow(/4711/);
  });
});

describe("RalphRelease: GitHub", () => {
  const ENVIRONMENT = {
    githubEnvironment: "release",
    ciPulumiBackendUrl: "s3://bucket/ralph-release",
    ciPulumiPassphrase: "pass-4711",
  };

  it("release: the GitHub release is our own step, last, uploading every supply-chain file and naming its signers", async () => {
    const { named, declared, dependsOn } = await declare("release", {});
    const step = named("ralph-github-release-publish");
    expect(step.props.create).toBe("npm run --silent cli -- github release");
    // Published first: the deb target, every pushed image, the attestations.
    expect(await dependsOn("ralph-github-release-publish")).toEqual([
      "ralph-core-packagecloud",
      "ralph-images",
      "ralph-supply-chain",
    ]);
    const request = await requestOf(step);
    expect(request).toMatchObject({
      apiUrl: "https://api.github.com",
      repository: "allegro/ralph",
      tag: "20241120.1",
      title: "Ralph 20241120.1",
      debFile: "ralph-core_20241120.1_amd64.deb",
    });
    expect(request.releaseId).toBeUndefined();
    expect(request.artifactDir).toBe(`${PROJECT_DIR}/build/20241120.1`);
    expect(request.files).toEqual(
      expect.arrayContaining([
        "ralph-core_20241120.1_amd64.deb",
        "provenance.intoto.json",
        "provenance.sigstore.json",
        "ralph.sigstore.json",
        "SHA256SUMS",
        "SHA256SUMS.asc",
      ]),
    );
    const notes: string = request.notes;
    expect(notes).toContain("Changes:\n- initial");
    expect(notes).toMatch(
      /`ralph-core_20241120\.1_amd64\.deb` for ubuntu\/jammy \(https:\/\/packagecloud\.io\/allegro\/ralph\), sha256 `c{64}`/,
    );
    expect(notes).toContain(
      "`docker.io/allegro/ralph:20241120.1`, `docker.io/allegro/ralph:latest` — `docker.io/allegro/ralph@sha256:",
    );
    expect(notes).toContain("signed in `SHA256SUMS.asc` by GPG key `<fingerprint>`");
    expect(notes).toContain("`npm run verify -- 20241120.1 --github allegro/ralph --gpg-key <the release key");
    // The token reaches the step only, as a secret; no GitHub provider without an environment to manage.
    const runtime = step.props.runtimeEnvironment as pulumi.Output<Record<string, string>>;
    expect(await isSecret(runtime)).toBe(true);
    expect(await resolve(runtime)).toEqual({ RALPH_GITHUB_TOKEN: "gh-4711" });
    expect(declared.some((d) => d.name === "ralph-github")).toBe(false);
  });

  it("adopts a release made by hand for the tag by its id, on the configured API", async () => {
    const { named } = await declare("release", {
      githubReleaseId: "123456",
      githubRepository: "my-org/ralph-fork",
      githubApiUrl: "https://ghe.example/api/v3",
    });
    expect(await requestOf(named("ralph-github-release-publish"))).toMatchObject({
      releaseId: 123456,
      repository: "my-org/ralph-fork",
      apiUrl: "https://ghe.example/api/v3",
    });
  });

  it("switched off, nothing on GitHub is declared, not even the provider", async () => {
    const { declared } = await declare("release", { githubRelease: "false" });
    expect(declared.filter((d) => d.name.startsWith("ralph-github"))).toEqual([]);
    const snapshot = await declare("snapshot", {});
    expect(snapshot.declared.filter((d) => d.name.startsWith("ralph-github"))).toEqual([]);
  });

  it("the publish workflow's environment: release tags only, every credential as a GitHub secret", async () => {
    const { named, declared } = await declare("release", ENVIRONMENT);
    expect(named("ralph-github-environment").props).toMatchObject({ repository: "ralph", environment: "release" });
    expect(named("ralph-github-environment").opts.retainOnDelete).toBe(true);
    expect(named("ralph-github-environment-release-tags").props.tagPattern).toBe(
      "[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].*",
    );
    const secrets = declared.filter((d) => d.props.secretName !== undefined);
    expect(secrets.map((d) => d.props.secretName).sort()).toEqual([
      "PACKAGECLOUD_TOKEN",
      "PULUMI_CONFIG_PASSPHRASE",
      "RALPH_RELEASE_GITHUB_TOKEN",
      "REGISTRY_PASSWORD",
      "RELEASE_GPG_SIGNING_KEY",
    ]);
    for (const secret of secrets) {
      expect(await isSecret(secret.props.plaintextValue as pulumi.Output<string>)).toBe(true);
    }
    const passphrase = secrets.find((d) => d.props.secretName === "PULUMI_CONFIG_PASSPHRASE");
    expect(await resolve(passphrase?.props.plaintextValue as pulumi.Output<string>)).toBe("pass-4711");
    const variables = Object.fromEntries(
      declared.filter((d) => d.props.variableName !== undefined).map((d) => [d.props.variableName, d.props.value]),
    );
    expect(variables).toEqual({
      PULUMI_BACKEND_URL: "s3://bucket/ralph-release",
      REGISTRY_USERNAME: "bot",
      PACKAGECLOUD_GPG_KEY: "0123456789ABCDEF0123456789ABCDEF01234567",
    });
  });
});
