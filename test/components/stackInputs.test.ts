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

  it("keeps credentials out of stack outputs and every resource but the registry login, the deb upload and GitHub's provider", async () => {
    const repo = taggedCheckout();
    const { outputs, resources } = await runProgram("release", { source: repo.dir, ...RELEASE_SETTINGS }, SECRET_KEYS);
    const UPLOAD = "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage";
    const GITHUB = "pulumi:providers:github";
    const [login, upload, github, ...others] = [
      ...resources.filter((r) => r.type === "pulumi:providers:docker"),
      ...resources.filter((r) => r.type === UPLOAD),
      ...resources.filter((r) => r.type === GITHUB),
      ...resources.filter((r) => ![UPLOAD, GITHUB, "pulumi:providers:docker"].includes(r.type)),
    ];
    const { token, ...uploadInputs } = upload.inputs;
    const { token: githubToken, ...githubInputs } = github.inputs;
    expect(JSON.stringify({ outputs, others, uploadInputs, githubInputs })).not.toMatch(/pw-4711|pc-4711|gh-4711/);
    // The GitHub token reaches only GitHub's provider, as a secret.
    expect(githubToken).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "gh-4711",
    });
    // The packagecloud token reaches only the upload, as a secret.
    expect(token).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "pc-4711" });
    // The one place the registry password goes: the Docker provider that pushes, as a secret (Pulumi's
    // secret signature wraps it, so state holds it encrypted).
    expect(login.inputs.registryAuth).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: JSON.stringify([{ address: "docker.io", username: "bot", password: "pw-4711" }]),
    });
  });

  it("leaves secrets out when none are configured", async () => {
    const repo = taggedCheckout();
    await useStack("snapshot", { source: repo.dir });
    expect(readStackInputs().secrets).toEqual({});
  });
});
