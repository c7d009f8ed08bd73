import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builderBuildArgs } from "../../../lib/deb/builder";
import { BASE_IMAGE, PROJECT_DIR, useContainerEngine } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

describe("builderBuildArgs", () => {
  it("carries a nodejs source with its key, named by the key's form; nothing of it without one", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "armored"), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF…\n");
    writeFileSync(join(dir, "binary"), Buffer.from([0x99, 0x02, 0x0d, 0x04]));
    const recipe = { baseImage: "ubuntu:jammy", buildDepends: "debhelper-compat (= 13), nodejs (>= 22.0.0), npm" };
    expect(builderBuildArgs(recipe)).toEqual({ BASE_IMAGE: "ubuntu:jammy", BUILD_DEPENDS: recipe.buildDepends });
    const source = "https://deb.nodesource.com/node_22.x nodistro main";
    const armored = builderBuildArgs({ ...recipe, nodeAptSource: { source, keyFile: join(dir, "armored") } });
    expect(armored).toMatchObject({
      NODE_APT_SOURCE: source,
      NODE_APT_KEY: readFileSync(join(dir, "armored")).toString("base64"),
      NODE_APT_KEY_FILE: "/etc/apt/keyrings/ralph-release-nodejs.asc",
    });
    const binary = builderBuildArgs({ ...recipe, nodeAptSource: { source, keyFile: join(dir, "binary") } });
    expect(binary.NODE_APT_KEY_FILE).toBe("/etc/apt/keyrings/ralph-release-nodejs.gpg");
  });
});

describe("the builder image with nodeAptSource", () => {
  beforeAll(() => useContainerEngine(), 120_000);

  it("installs the source's key where the source line names it, before apt-get build-dep", () => {
    const dir = tempDir();
    const keyFile = join(dir, "nodesource.asc");
    writeFileSync(
      keyFile,
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a real key\n-----END PGP PUBLIC KEY BLOCK-----\n",
    );
    // Nothing answers there: apt-get update only warns, and what is satisfied comes from the archive.
    const source = "http://127.0.0.1:9/node nodistro main";
    const args = builderBuildArgs({
      baseImage: BASE_IMAGE,
      buildDepends: "dpkg-dev",
      nodeAptSource: { source, keyFile },
    });
    const tag = "localhost/ralph-release/deb-builder:test-node-source";
    execFileSync(
      "docker",
      [
        ...["build", "--quiet", "--file", join(PROJECT_DIR, "docker", "deb-builder", "Dockerfile"), "--tag", tag],
        ...Object.entries(args).map(([name, value]) => `--build-arg=${name}=${value}`),
        join(PROJECT_DIR, "docker", "deb-builder"),
      ],
      { env: { ...process.env, DOCKER_BUILDKIT: "0" }, stdio: ["ignore", "ignore", "inherit"] },
    );
    const inImage = (path: string) => execFileSync("docker", ["run", "--rm", tag, "cat", path], { encoding: "utf8" });
    expect(inImage("/etc/apt/sources.list.d/ralph-release-nodejs.list")).toBe(
      `deb [signed-by=/etc/apt/keyrings/ralph-release-nodejs.asc] ${source}\n`,
    );
    expect(inImage("/etc/apt/keyrings/ralph-release-nodejs.asc")).toBe(readFileSync(keyFile, "utf8"));
  }, 600_000);
});
