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

  it("keeps credentials out of stack outputs and every resource but the publishing steps and GitHub's provider", async () => {
    const repo = taggedCheckout();
    const { outputs, resources } = await runProgram("release", { source: repo.dir, ...RELEASE_SETTINGS }, SECRET_KEYS);
    const UPLOAD = "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage";
    const GITHUB = "pulumi:providers:github";
    const [upload, github, ...others] = [
      ...resources.filter((r) => r.type === UPLOAD),
      ...resources.filter((r) => r.type === GITHUB),
      ...resources.filter((r) => ![UPLOAD, GITHUB].includes(r.type)),
    ];
    const { token, ...uploadInputs } = upload.inputs;
    const { token: githubToken, ...githubInputs } = github.inputs;
    const registrySteps = others.filter((r) => r.inputs.runtimeEnvironment !== undefined);
    const othersWithoutRuntime = others.map(({ inputs: { runtimeEnvironment, ...inputs }, ...r }) => ({
      ...r,
      inputs,
    }));
    expect(JSON.stringify({ outputs, othersWithoutRuntime, uploadInputs, githubInputs })).not.toMatch(
      /pw-4711|pc-4711|gh-4711/,
    );
    // The GitHub token reaches only GitHub's provider, as a secret.
    expect(githubToken).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "gh-4711",
    });
    // The packagecloud token reaches only the upload, as a secret.
    expect(token).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "pc-4711" });
    // The registry password reaches only the steps that talk to the registry (the release's check,
    // each push and its image's build, the attachments), the packagecloud token also the check of the deb targets: in their runtime
    // environment, as a secret (Pulumi's secret signature wraps it, so state holds it encrypted),
    // never on a command line.
    const runtimeSecrets = Object.fromEntries(
      registrySteps.map((r) => {
        const wrapped = r.inputs.runtimeEnvironment as Record<string, unknown>;
        expect(wrapped["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
        const values = wrapped.value as Record<string, string>;
        return [r.name, Object.keys(values).filter((key) => /pw-4711|pc-4711/.test(values[key]))];
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
      // Attaching each image's Sigstore bundle writes to the registry too.
      "ralph-supply-chain-attest": ["RALPH_REGISTRY_PASSWORD"],
    });
  });

  it("leaves secrets out when none are configured", async () => {
    const repo = taggedCheckout();
    await useStack("snapshot", { source: repo.dir });
    expect(readStackInputs().secrets).toEqual({});
  });
});
