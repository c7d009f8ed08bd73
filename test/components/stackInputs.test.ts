import { afterAll, describe, expect, it } from "vitest";
import { readStackInputs } from "../../components/stackInputs";
import { GitRepo, removeTempDirs } from "../support/gitRepo";
import { isSecret, resolve, runProgram, useStack, RELEASE_SETTINGS, SECRET_KEYS } from "../support/pulumi";

afterAll(removeTempDirs);

function taggedCheckout() {
  const repo = GitRepo.init();
  repo.commit("initial");
  repo.tag("20241120.1");
  return repo;
}

describe("readStackInputs", () => {
  it("hands credentials on only as Pulumi secrets", async () => {
    const repo = taggedCheckout();
    await useStack("release", { source: repo.dir, ...RELEASE_SETTINGS }, SECRET_KEYS);
    const { secrets, settings } = readStackInputs();
    expect(settings.mode).toBe("release");
    for (const [key, expected] of [
      ["registryPassword", "pw-4711"],
      ["packagecloudToken", "pc-4711"],
      ["githubToken", "gh-4711"],
    ] as const) {
      const output = secrets[key] ?? expect.fail(`${key} missing`);
      expect(await isSecret(output)).toBe(true);
      expect(await resolve(output)).toBe(expected);
    }
  });

  it("keeps credentials out of stack outputs and every resource but the steps that use them", async () => {
    const repo = taggedCheckout();
    const { outputs, resources } = await runProgram("release", { source: repo.dir, ...RELEASE_SETTINGS }, SECRET_KEYS);
    const UPLOAD = "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage";
    const [upload, ...others] = [
      ...resources.filter((r) => r.type === UPLOAD),
      ...resources.filter((r) => r.type !== UPLOAD),
    ];
    const { token, ...uploadInputs } = upload.inputs;
    const stepsWithSecrets = others.filter((r) => r.inputs.runtimeEnvironment !== undefined);
    const othersWithoutRuntime = others.map(({ inputs: { runtimeEnvironment, ...inputs }, ...r }) => ({
      ...r,
      inputs,
    }));
    const SECRET_VALUES = /pw-4711|pc-4711|gh-4711|gpg-4711|sig-4711/;
    expect(JSON.stringify({ outputs, othersWithoutRuntime, uploadInputs })).not.toMatch(SECRET_VALUES);
    // The packagecloud token reaches only the upload, as a secret.
    expect(token).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "pc-4711" });
    // Every other credential reaches only the steps that use it (the release's checks, each push and
    // its image's build, the attestations, the GitHub release): in their runtime environment, as a
    // secret (Pulumi's secret signature wraps it, so state holds it encrypted), never on a command line.
    const runtimeSecrets = Object.fromEntries(
      stepsWithSecrets.map((r) => {
        const wrapped = r.inputs.runtimeEnvironment as Record<string, unknown>;
        expect(wrapped["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
        const values = wrapped.value as Record<string, string>;
        return [r.name, Object.keys(values).filter((key) => SECRET_VALUES.test(values[key]))];
      }),
    );
    expect(runtimeSecrets).toEqual({
      "ralph-published-deb": ["RALPH_PACKAGECLOUD_TOKEN"],
      "ralph-published-images": ["RALPH_REGISTRY_PASSWORD"],
      "ralph-images-ralph-push": ["RALPH_REGISTRY_PASSWORD"],
      "ralph-images-ralph-static-nginx-push": ["RALPH_REGISTRY_PASSWORD"],
      "ralph-images-inkpy-push": ["RALPH_REGISTRY_PASSWORD"],
      // Each pushed image's build pulls it back from the registry on a runner that lacks it.
      "ralph-images-ralph": ["RALPH_REGISTRY_PASSWORD"],
      "ralph-images-ralph-static-nginx": ["RALPH_REGISTRY_PASSWORD"],
      "ralph-images-inkpy": ["RALPH_REGISTRY_PASSWORD"],
      // The signing keys, and the registry (each image's Sigstore bundle is attached to it).
      "ralph-supply-chain-attest": ["RALPH_GPG_SIGNING_KEY", "RALPH_REGISTRY_PASSWORD", "RALPH_SIGNING_KEY"],
      "ralph-github-release-publish": ["RALPH_GITHUB_TOKEN"],
    });
  });

  it("leaves secrets out when none are configured", async () => {
    const repo = taggedCheckout();
    await useStack("snapshot", { source: repo.dir });
    expect(readStackInputs().secrets).toEqual({});
  });
});
