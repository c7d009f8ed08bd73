import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builderBuildArgs } from "../../../lib/deb/builder";
import { buildDepends, distributionProfile, renderControl } from "../../../lib/deb/distributions";
import { publishToAptly } from "../../../lib/publish/aptly";
import { serveDirectory, signingKey, tinyDeb } from "../../support/aptRepo";
import { BASE_IMAGE, PROJECT_DIR, useContainerEngine } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { createHash } from "node:crypto";

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

  it("installs the front end's nodejs >= 22 from the signed source; bookworm's archive alone cannot", async () => {
    // A signed apt repository standing in for NodeSource: nodejs 22.0.0 and npm 10.0.0.
    const key = signingKey();
    const root = tempDir("ralph-release-node-source-");
    let keyFile = "";
    for (const [name, version] of [
      ["nodejs", "22.0.0"],
      ["npm", "10.0.0"],
    ]) {
      const deb = tinyDeb(name, version);
      const sha256 = createHash("sha256").update(readFileSync(deb)).digest("hex");
      const published = await publishToAptly({
        ...{ rootDir: root, repository: "node", distro: "node", release: "nodistro", debPath: deb, sha256 },
        ...{ gpgKey: key.keyId, gnupgHome: key.gnupgHome },
      });
      keyFile = published.keyFile as string;
    }
    // The front end's relations exactly as the control file renders them for debian/bookworm.
    const profile = distributionProfile("debian/bookworm");
    if (!profile) throw new Error("no bookworm profile");
    const control = renderControl(readFileSync(join(PROJECT_DIR, "debian", "control.in"), "utf8"), {
      profile,
      pythonMinimum: profile.python,
      nodeMinimum: "22.0.0",
    });
    const nodeRelations = buildDepends(control)
      .split(",")
      .map((relation) => relation.trim())
      .filter((relation) => /^(nodejs|npm)\b/.test(relation))
      .join(", ");
    expect(nodeRelations).toBe("nodejs (>= 22.0.0), npm");

    const served = await serveDirectory(join(root, "public"));
    try {
      const build = (nodeAptSource?: { source: string; keyFile: string }) => {
        const args = builderBuildArgs({ baseImage: BASE_IMAGE, buildDepends: nodeRelations, nodeAptSource });
        const tag = `localhost/ralph-release/deb-builder:test-node-source-${nodeAptSource ? "with" : "without"}`;
        const dockerfile = join(PROJECT_DIR, "docker", "deb-builder", "Dockerfile");
        const result = spawnSync(
          "docker",
          [
            ...["build", "--quiet", "--network=host", "--file", dockerfile, "--tag", tag],
            ...Object.entries(args).map(([name, value]) => `--build-arg=${name}=${value}`),
            join(PROJECT_DIR, "docker", "deb-builder"),
          ],
          { encoding: "utf8", env: { ...process.env, DOCKER_BUILDKIT: "0" } },
        );
        return { ...result, tag };
      };
      const without = build();
      expect(without.status).not.toBe(0);
      expect(without.stdout + without.stderr).toMatch(/nodejs \(>= 22\.0\.0\)/);

      const withSource = build({ source: `${served.url}/node nodistro main`, keyFile });
      expect(withSource.status, withSource.stderr).toBe(0);
      const installed = spawnSync(
        "docker",
        [
          "run",
          "--rm",
          withSource.tag,
          "dpkg-query",
          "--show",
          "--showformat=${Package} ${Version}\\n",
          "nodejs",
          "npm",
        ],
        { encoding: "utf8" },
      );
      expect(installed.stdout).toBe("nodejs 22.0.0\nnpm 10.0.0\n");
    } finally {
      await served.close();
    }
  }, 600_000);
});
