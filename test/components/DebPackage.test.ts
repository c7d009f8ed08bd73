import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../support/containers";
import { removeTempDirs, tempDir } from "../support/gitRepo";
import { imageBuildOf, mockImageId, runProgram, RELEASE_SETTINGS, SECRET_KEYS, stepRequest } from "../support/pulumi";
import { BUNDLE_RELEASE, cloneRalph } from "../support/ralphBundle";
import { addFrontEnd, ralphFixtureRepo } from "../support/ralphFixture";

afterAll(removeTempDirs);

function byName(resources: { name: string; type: string; inputs: Record<string, unknown> }[]) {
  return Object.fromEntries(resources.map((r) => [r.name, r]));
}

describe("DebPackage under the program", () => {
  it("snapshot: builder image from the distribution, build triggered by its fingerprint, then the gate", async () => {
    const repo = ralphFixtureRepo();
    repo.checkout("-b", "feature/ABC_12");
    repo.commit("work", "src/ralph/work.py");
    const { outputs, resources } = await runProgram("snapshot", { source: repo.dir, distribution: "debian/bookworm" });
    const r = byName(resources);

    expect(r["ralph-core"].type).toBe("ralph:deb:DebPackage");
    const builder = r["ralph-core-builder"];
    expect(builder.inputs.create).toBe("npm run --silent cli -- image build");
    expect(imageBuildOf(builder)).toMatchObject({
      tag: "ralph-release/deb-builder:debian-bookworm",
      context: expect.stringMatching(/\/docker\/deb-builder$/),
    });
    const buildArgs = imageBuildOf(builder)?.buildArgs ?? {};
    expect(buildArgs.BASE_IMAGE).toBe("debian:bookworm");
    expect(buildArgs.BUILD_DEPENDS).toContain("default-libmysqlclient-dev");
    expect(buildArgs.BUILD_DEPENDS).not.toContain("nodejs"); // the fixture has no front end

    const build = r["ralph-core-build"];
    expect(build.inputs.create).toBe("npm run --silent cli -- deb build");
    const request = stepRequest<Record<string, unknown>>(build, "RALPH_DEB_BUILD")!;
    expect(request).toMatchObject({
      source: repo.dir,
      debianVersion: `${String(outputs.version).split("-")[0]}~feature.ABC.12.SNAPSHOT.1`,
      builderImage: mockImageId("ralph-core-builder"),
      treeId: repo.git("rev-parse", "HEAD^{tree}"),
    });
    // Triggers by name: the fingerprint of everything, and what most often changes.
    expect(build.inputs.triggers).toEqual({
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      commit: repo.git("rev-parse", "HEAD"),
      tree: repo.git("rev-parse", "HEAD^{tree}"),
      packaging: expect.stringMatching(/^[0-9a-f]{64}$/),
      builder: mockImageId("ralph-core-builder"),
    });

    const verify = stepRequest<Record<string, unknown>>(r["ralph-core-verify"], "RALPH_DEB_VERIFY")!;
    expect(verify).toMatchObject({ checkerImage: mockImageId("ralph-core-builder"), installImage: "debian:bookworm" });
    expect(verify.debPath).toBe(outputs.debPath);
    expect(outputs.debPath).toMatch(/\/build\/.*SNAPSHOT\.1\/ralph-core_.*SNAPSHOT\.1_amd64\.deb$/);
    expect(outputs.debSha256).toBe("c".repeat(64));
  });

  it("Ralph's real tree, distribution auto: bionic as Ralph builds it (the PPA base, its pip pin, the archive's Node)", async () => {
    const ralph = cloneRalph();
    ralph.checkout("--detach", BUNDLE_RELEASE);
    const { resources } = await runProgram("snapshot", { source: ralph.dir, images: "false" });
    const r = byName(resources);
    const base = imageBuildOf(r["ralph-core-builder-base"]) ?? expect.fail("no builder base");
    const builder = imageBuildOf(r["ralph-core-builder"]) ?? expect.fail("no builder");
    // The builder is built on the base's own build, by id.
    expect(builder.buildArgs.BASE_IMAGE).toBe(mockImageId("ralph-core-builder-base"));
    const build = stepRequest<{ pipVersion?: string; distribution: string }>(r["ralph-core-build"], "RALPH_DEB_BUILD");
    expect(build).toMatchObject({ distribution: "ubuntu/bionic", pythonMinimum: "3.6", pipVersion: "19.3.1" });
    // What bionic's builder is, reviewed: the PPA base's recipe and arguments, then the builder's.
    const recipe = (request: { dockerfile: string; buildArgs: Record<string, string> }) =>
      `# ${relative(PROJECT_DIR, request.dockerfile)}\n${JSON.stringify(request.buildArgs, null, 2)}\n`;
    await expect(recipe(base) + recipe(builder)).toMatchFileSnapshot("golden/builder-ubuntu-bionic.txt");
  });

  it("a tree with a front end on jammy: the builder gets nodejs from nodeAptSource, with its key", async () => {
    const repo = ralphFixtureRepo();
    addFrontEnd(repo);
    repo.git("add", "--all");
    repo.git("commit", "--quiet", "-m", "front end");
    const key = join(tempDir(), "nodesource.asc");
    writeFileSync(key, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n");
    const nodeAptSource = "https://deb.nodesource.com/node_22.x nodistro main";
    const { resources } = await runProgram("snapshot", { source: repo.dir, nodeAptSource, nodeAptKey: key });
    const buildArgs = imageBuildOf(byName(resources)["ralph-core-builder"])?.buildArgs ?? {};
    expect(buildArgs).toMatchObject({
      BASE_IMAGE: "ubuntu:jammy",
      NODE_APT_SOURCE: nodeAptSource,
      NODE_APT_KEY: readFileSync(key).toString("base64"),
      NODE_APT_KEY_FILE: "/etc/apt/keyrings/ralph-release-nodejs.asc",
    });
    // What the builder satisfies is the control file's own relation.
    expect(buildArgs.BUILD_DEPENDS).toContain("nodejs (>= 22.0.0), npm");
  });

  it("release with the host builder: no builder image, the tag's version, checks run on this machine", async () => {
    const repo = ralphFixtureRepo();
    repo.checkout("--detach", "20241124.1");
    const { resources } = await runProgram(
      "release",
      {
        source: repo.dir,
        builder: "host",
        baseImage: "localhost/debian:bookworm",
        distribution: "debian/bookworm",
        ...RELEASE_SETTINGS,
      },
      SECRET_KEYS,
    );
    const r = byName(resources);
    expect(r["ralph-core-builder"]).toBeUndefined();
    const request = stepRequest<Record<string, unknown>>(r["ralph-core-build"], "RALPH_DEB_BUILD")!;
    expect(request.debianVersion).toBe("20241124.1");
    expect(request.builderImage).toBeUndefined();
    expect(request.keepExisting).toBe(true);
    const verify = stepRequest<Record<string, unknown>>(r["ralph-core-verify"], "RALPH_DEB_VERIFY")!;
    expect(verify).toMatchObject({ installImage: "localhost/debian:bookworm", expected: { version: "20241124.1" } });
    expect(verify.checkerImage).toBeUndefined();
  });

  it("the same checkout gives the same trigger; one changed file gives a new one", async () => {
    const repo = ralphFixtureRepo();
    const trigger = async () => {
      const { resources } = await runProgram("snapshot", { source: repo.dir, builder: "host" });
      return (byName(resources)["ralph-core-build"].inputs.triggers as Record<string, string>).fingerprint;
    };
    const first = await trigger();
    expect(await trigger()).toBe(first);
    repo.write("src/ralph/importer.py", "# changed\n");
    expect(await trigger()).not.toBe(first);
  });
});
