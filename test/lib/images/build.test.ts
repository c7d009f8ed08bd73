import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildDeb, type DebBuildRequest } from "../../../lib/deb/build";
import { buildImage, smokeTest, stageRalphContext, type SmokeKind } from "../../../lib/images/build";
import { checkPublishedImages, type PushRequest, pushImage } from "../../../lib/images/publish";
import { waitForIndexedVersion } from "../../../lib/publish/indexWait";
import { publishToAptly } from "../../../lib/publish/aptly";
import { serveDirectory, signingKey } from "../../support/aptRepo";
import { BASE_IMAGE, docker } from "../../support/containers";
import { dockerCommands, stopEngineElsewhere, useEngineElsewhere } from "../../support/engineElsewhere";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import {
  imageBuildOf,
  INKPY_CHECKOUT,
  mockImageId,
  RELEASE_SIGNING,
  runProgram,
  stepRequest,
} from "../../support/pulumi";
import { ralphFixtureRepo } from "../../support/ralphFixture";
import { RegistryApi } from "../../support/registry";

type Resource = { name: string; type: string; inputs: Record<string, unknown> };
const REGISTRY = "127.0.0.1:5000";
const registry = new RegistryApi(`http://${REGISTRY}`);
const KIND: Record<string, SmokeKind> = { ralph: "ralph", "ralph-static-nginx": "static", inkpy: "inkpy" };

afterAll(removeTempDirs);
// Every build, smoke test and push here goes through an engine that cannot see this machine's files.
afterAll(stopEngineElsewhere);

// A step's request, on this machine's paths.
const env = (r: Resource, name: string) => stepRequest<any>(r, name) ?? expect.fail(`${r.name} carries no ${name}`);

/** The program builds into this project's build/: start each version afresh (a release's deb is never overwritten). */
function freshBuild(request: DebBuildRequest) {
  rmSync(join(request.outDir, request.debianVersion), { recursive: true, force: true });
  return buildDeb(request);
}

/**
 * Carries out what the program declared, step by step, with the real tools: the deb build, the
 * ralph context, each image build as declared (mock image ids replaced by the real ones), each smoke
 * gate, then the pushes.
 */
async function carryOut(resources: Resource[]) {
  const byName = (name: string) => resources.find((r) => r.name === name) as Resource;
  // A release asks the registry first: nothing is built over a version tag that is not this stack's.
  const check = resources.find((r) => r.name === "ralph-published-images");
  if (check) await checkPublishedImages(env(check, "RALPH_IMAGE_CHECK"), { recordedTags: {} });
  const deb = await freshBuild(env(byName("ralph-core-build"), "RALPH_DEB_BUILD"));
  // publish + index wait, when declared (the release installs from the repository).
  const aptly = resources.find((r) => r.name === "ralph-core-aptly-publish");
  if (aptly) {
    const request = env(aptly, "RALPH_APTLY_PUBLISH");
    expect(request.debPath).toBe(deb.path);
    // The mocked gate reports a made-up checksum; the real one is the build's.
    await publishToAptly({ ...request, sha256: deb.sha256 });
  }
  const indexWait = resources.find((r) => r.name === "ralph-core-index-poll");
  if (indexWait) await waitForIndexedVersion(env(indexWait, "RALPH_APT_WAIT"));
  stageRalphContext(env(byName("ralph-images-ralph-context"), "RALPH_IMAGE_STAGE"));
  const realIds: Record<string, string> = {};
  const realIdOf: Record<string, string> = {};
  for (const image of ["ralph", "inkpy-unlabelled", "inkpy", "ralph-static-nginx"]) {
    const declared =
      imageBuildOf(byName(`ralph-images-${image}`)) ?? expect.fail(`ralph-images-${image} builds no image`);
    // An argument naming an earlier build (static's RALPH_IMAGE, inkpy's IMAGE) gets that build's real id.
    const buildArgs = Object.fromEntries(
      Object.entries(declared.buildArgs).map(([key, value]) => [key, realIdOf[value] ?? value]),
    );
    realIds[image] = (await buildImage({ ...declared, buildArgs })).id;
    realIdOf[mockImageId(`ralph-images-${image}`)] = realIds[image];
    if (image === "inkpy-unlabelled") continue;
    const smoke = env(byName(`ralph-images-${image}-smoke`), "RALPH_IMAGE_SMOKE");
    expect(smoke.kind).toBe(KIND[image]);
    await smokeTest({ kind: smoke.kind, image: realIds[image], probeImage: realIdOf[smoke.probeImage] });
  }
  for (const push of resources.filter((r) => r.name.startsWith("ralph-images-") && r.name.endsWith("-push"))) {
    const request = env(push, "RALPH_IMAGE_PUSH") as PushRequest;
    await pushImage({ ...request, localImage: realIdOf[request.localImage] }, { recordedTags: {} });
  }
  return realIds;
}

async function expectLabels(namespace: string, version: string, revision: string, created: string) {
  for (const image of ["ralph", "ralph-static-nginx", "inkpy"]) {
    expect(await registry.labels(`${namespace}/${image}`, version)).toMatchObject({
      "org.opencontainers.image.title": image,
      "org.opencontainers.image.version": version,
      "org.opencontainers.image.revision": revision,
      "org.opencontainers.image.created": created,
      "org.opencontainers.image.source": "https://github.com/allegro/ralph",
      "org.opencontainers.image.vendor": "Allegro",
    });
  }
}

describe("smoke gates", () => {
  beforeAll(() => useEngineElsewhere(), 120_000);

  it("fail, with the image's own output, on an image that is not what it claims", async () => {
    // A bare distribution image: no ralph entry point, no static files, no long-running process.
    await expect(smokeTest({ kind: "ralph", image: BASE_IMAGE })).rejects.toThrow(/`--version` exited [1-9]\d*/);
    await expect(smokeTest({ kind: "static", image: BASE_IMAGE })).rejects.toThrow(/holds no static files/);
    await expect(smokeTest({ kind: "inkpy", image: BASE_IMAGE })).rejects.toThrow(/did not stay up/);
  }, 120_000);
});

describe("ralph, ralph-static-nginx and inkpy, built and pushed as the program declares them", () => {
  beforeAll(() => useEngineElsewhere(), 120_000);

  it("a snapshot pushes its version tags with OCI labels and leaves latest alone; a release moves latest", async () => {
    const repo = ralphFixtureRepo();
    const namespace = `test${Date.now()}`;
    const common = {
      source: repo.dir,
      inkpySource: INKPY_CHECKOUT,
      registry: REGISTRY,
      imageNamespace: namespace,
      publishImages: "true",
      distribution: "debian/bookworm",
      baseImage: BASE_IMAGE,
      nginxImage: BASE_IMAGE,
      builder: "host",
      pipArgs: "--no-index --no-build-isolation",
      // The snapshot publishes to its own aptly repository, unsigned.
      aptlyRoot: tempDir("ralph-release-aptly-snapshot-"),
    };
    // Someone's earlier release: latest points at it.
    await docker("tag", BASE_IMAGE, `${REGISTRY}/${namespace}/ralph:latest`);
    await docker("push", "--quiet", `${REGISTRY}/${namespace}/ralph:latest`);
    const earlierLatest = await registry.digest(`${namespace}/ralph`, "latest");

    repo.checkout("-b", "feature/ABC_12");
    repo.commit("Snapshot work", "src/ralph/snapshot.py");
    const snapshot = await runProgram("snapshot", common);
    await carryOut(snapshot.resources as Resource[]);
    const version = snapshot.outputs.version as string;
    for (const image of ["ralph", "ralph-static-nginx", "inkpy"]) {
      expect(await registry.tags(`${namespace}/${image}`)).toContain(version);
    }
    expect(await registry.tags(`${namespace}/ralph-static-nginx`)).toEqual([version]);
    expect(await registry.digest(`${namespace}/ralph`, "latest")).toBe(earlierLatest);
    await expectLabels(
      namespace,
      version,
      repo.git("rev-parse", "HEAD"),
      repo.git("show", "-s", "--format=%cI", "HEAD"),
    );
    // Built, smoke-tested and pushed with nothing of this machine mounted (contexts go as the CLI sends them).
    const containers = dockerCommands().filter(([command]) => command === "run" || command === "create");
    expect(containers.length).toBeGreaterThan(0);
    expect(containers.filter((argv) => argv.some((arg) => /^(-v|--volume|--mount|--publish|-p)/.test(arg)))).toEqual(
      [],
    );
    // Of ralph-core's platform, whatever the engine's: each build and container says so, and the registry holds amd64.
    const made = dockerCommands().filter(([command]) => ["run", "create", "build"].includes(command));
    expect(made.filter((argv) => !argv.includes("--platform=linux/amd64"))).toEqual([]);
    for (const image of ["ralph", "ralph-static-nginx", "inkpy"]) {
      expect(await registry.platform(`${namespace}/${image}`, version)).toBe("linux/amd64");
      expect((await registry.labels(`${namespace}/${image}`, version))["ralph-release.platform"]).toBe("linux/amd64");
    }
    // Pull what was pushed and run it: the registry holds a working image.
    await docker("image", "rm", "--force", `${REGISTRY}/${namespace}/ralph:${version}`);
    await docker("pull", "--quiet", `${REGISTRY}/${namespace}/ralph:${version}`);
    expect(await smokeTest({ kind: "ralph", image: `${REGISTRY}/${namespace}/ralph:${version}` })).toContain(
      "ralph 3.0.0",
    );

    // The release publishes the deb to a signed aptly repository and installs ralph-core=<version> from it.
    repo.checkout("--detach", "20241124.1");
    const aptlyRoot = tempDir("ralph-release-aptly-");
    const key = signingKey();
    const apt = await serveDirectory(`${aptlyRoot}/public`);
    const gnupgHome = process.env.GNUPGHOME;
    process.env.GNUPGHOME = key.gnupgHome;
    try {
      const release = await runProgram(
        "release",
        {
          ...common,
          debTargets: "aptly",
          aptlyRoot,
          aptlyUrl: apt.url,
          aptlyGpgKey: key.keyId,
          githubRelease: "false",
          signingKey: RELEASE_SIGNING.signingKey,
        },
        ["signingKey"],
      );
      const ids = await carryOut(release.resources as Resource[]);
      expect(apt.requested).toContain("/debian/dists/bookworm/InRelease");
      expect(apt.requested.some((path) => path.startsWith("/debian/pool/main/r/ralph-core/"))).toBe(true);
      expect(await registry.tags(`${namespace}/ralph`)).toEqual(["20241124.1", "latest", version].sort());
      const latest = await registry.digest(`${namespace}/ralph`, "latest");
      expect(latest).not.toBe(earlierLatest);
      expect(latest).toBe(await registry.digest(`${namespace}/ralph`, "20241124.1"));
      expect(ids.ralph).toMatch(/^sha256:/);
      // Rebuilt from the same inkpy recipe, the release's images still carry the release's own labels.
      await expectLabels(
        namespace,
        "20241124.1",
        repo.git("rev-parse", "HEAD"),
        repo.git("show", "-s", "--format=%cI", "HEAD"),
      );
    } finally {
      process.env.GNUPGHOME = gnupgHome;
      if (gnupgHome === undefined) delete process.env.GNUPGHOME;
      await apt.close();
    }
  }, 1_800_000);
});
