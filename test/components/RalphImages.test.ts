import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs } from "../support/gitRepo";
import {
  imageBuildOf,
  INKPY_CHECKOUT,
  mockImageId,
  RELEASE_SETTINGS,
  runProgram,
  SECRET_KEYS,
  stepRequest,
} from "../support/pulumi";
import { ralphFixtureRepo } from "../support/ralphFixture";

afterAll(removeTempDirs);

type Resource = { name: string; type: string; inputs: Record<string, unknown> };
/** Resources register asynchronously: compare as sets, in a stable order. */
const sorted = <T>(items: T[]) => [...items].sort((a, b) => (canonical(a) < canonical(b) ? -1 : 1));
// Key order is whatever the engine sent: compare by sorted keys.
const canonical = (value: unknown) =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
const named = (resources: Resource[], name: string) => resources.find((r) => r.name === name) as Resource;
const buildOf = (r: Resource) => {
  const request = imageBuildOf(r) ?? expect.fail(`${r.name} is not an image build`);
  return { ...request, args: request.buildArgs };
};

describe("RalphImages under the program", () => {
  it("snapshot: three local builds tagged with the version only, static from ralph's id, nothing pushed", async () => {
    const repo = ralphFixtureRepo();
    repo.checkout("-b", "feature/ABC_12");
    const { outputs, resources } = await runProgram("snapshot", { source: repo.dir, inkpySource: INKPY_CHECKOUT });
    const version = outputs.version as string;
    const images = resources.filter((r) => imageBuildOf(r) !== undefined && r.name.startsWith("ralph-images-"));
    expect(sorted(images.map((r) => [r.name, buildOf(r).tag]))).toEqual(
      sorted([
        ["ralph-images-ralph", `localhost:5000/allegro/ralph:${version}`],
        ["ralph-images-inkpy", `localhost:5000/allegro/inkpy:${version}`],
        ["ralph-images-inkpy-unlabelled", `ralph-release/inkpy-unlabelled:${version}`],
        ["ralph-images-ralph-static-nginx", `localhost:5000/allegro/ralph-static-nginx:${version}`],
      ]),
    );
    const [ralph, inkpy, staticImage] = [
      "ralph-images-ralph",
      "ralph-images-inkpy",
      "ralph-images-ralph-static-nginx",
    ].map((n) => buildOf(named(images, n)));
    const labels = {
      RALPH_VERSION: version,
      VCS_REF: repo.git("rev-parse", "HEAD"),
      BUILD_DATE: repo.git("show", "-s", "--format=%cI"),
    };
    expect(ralph.args).toEqual({
      ...labels,
      BASE_IMAGE: "ubuntu:jammy",
      DEBIAN_VERSION: outputs.debianVersion,
      SNAPSHOT: "1",
      // A snapshot installs the deb it just built, from the build context: no apt repository.
      APT_SOURCE: "",
      APT_KEY_URL: "",
    });
    expect(ralph.context).toMatch(
      new RegExp(`/build/snapshots/${outputs.debianVersion}/image-context/ralph$`.replaceAll(".", "\\.")),
    );
    expect(staticImage.args).toEqual({
      ...labels,
      RALPH_IMAGE: mockImageId("ralph-images-ralph"),
      NGINX_IMAGE: "nginx:stable",
    });
    expect(buildOf(named(images, "ralph-images-inkpy-unlabelled"))).toMatchObject({
      context: INKPY_CHECKOUT,
      dockerfile: `${INKPY_CHECKOUT}/Dockerfile`,
      args: { ...labels, BASE_IMAGE: "ubuntu:jammy" },
    });
    // inkpy's recipe is its own project's: our labels go on in a layer of our own, over exactly that build.
    expect(inkpy.args).toEqual({
      ...labels,
      IMAGE: mockImageId("ralph-images-inkpy-unlabelled"),
      TITLE: "inkpy",
      DESCRIPTION: "Ralph's document rendering service",
    });

    const stage = stepRequest<{ debPath: string }>(
      named(resources, "ralph-images-ralph-context"),
      "RALPH_IMAGE_STAGE",
    )!;
    expect(stage.debPath).toBe(outputs.debPath);
    const smokes = resources.filter((r) => r.name.endsWith("-smoke")).map((r) => stepRequest(r, "RALPH_IMAGE_SMOKE"));
    expect(sorted(smokes)).toEqual(
      sorted([
        { kind: "ralph", image: mockImageId("ralph-images-ralph") },
        // static is asked over HTTP from inside its network, by the ralph image it was built from.
        {
          kind: "static",
          image: mockImageId("ralph-images-ralph-static-nginx"),
          probeImage: mockImageId("ralph-images-ralph"),
        },
        { kind: "inkpy", image: mockImageId("ralph-images-inkpy") },
      ]),
    );
    expect(pushRequests(resources)).toEqual([]);
    expect(outputs.imageRefs).toEqual({});
  });

  it("snapshot with publishImages: pushes the version tag of each image, never latest, with no tag written once", async () => {
    const repo = ralphFixtureRepo();
    // At the release's commit a snapshot is <version>-SNAPSHOT: the release's own tag is the release stack's.
    const atTag = pushRequests(
      (await runProgram("snapshot", { source: repo.dir, inkpySource: INKPY_CHECKOUT, publishImages: "true" }))
        .resources,
    );
    expect(atTag.map((p) => [p.tags, p.versionTag])).toEqual(atTag.map(() => [["20241124.1-SNAPSHOT"], undefined]));
    expect(atTag).toHaveLength(3);
    repo.checkout("-b", "feature/ABC_12");
    repo.commit("Snapshot work", "src/ralph/snapshot.py");
    const { outputs, resources } = await runProgram("snapshot", {
      source: repo.dir,
      inkpySource: INKPY_CHECKOUT,
      publishImages: "true",
      registry: "127.0.0.1:5000",
    });
    const pushes = pushRequests(resources);
    expect(sorted(pushes.map((p) => [p.repository, p.tags, p.versionTag, p.username]))).toEqual(
      sorted(
        ["ralph", "ralph-static-nginx", "inkpy"].map((image) => [
          `127.0.0.1:5000/allegro/${image}`,
          [outputs.version],
          undefined, // a snapshot overwrites its own tags
          undefined, // a local registry needs no login
        ]),
      ),
    );
    // Each push takes the image its smoke test passed, by id.
    expect(sorted(pushes.map((p) => p.localImage))).toEqual(
      sorted(["ralph", "ralph-static-nginx", "inkpy"].map((image) => mockImageId(`ralph-images-${image}`))),
    );
    // Nothing checks the registry before a snapshot builds, and the stack does not read its own record.
    expect(resources.filter((r) => r.name.startsWith("ralph-published-") || r.type.includes("StackReference"))).toEqual(
      [],
    );
    expect(outputs.imageRefs).toEqual({
      ralph: `127.0.0.1:5000/allegro/ralph@sha256:${"d".repeat(64)}`,
      "ralph-static-nginx": `127.0.0.1:5000/allegro/ralph-static-nginx@sha256:${"d".repeat(64)}`,
      inkpy: `127.0.0.1:5000/allegro/inkpy@sha256:${"d".repeat(64)}`,
    });
  });

  it("release: installs from the apt repository; version and latest pushed logged in, the version tag written once", async () => {
    const repo = ralphFixtureRepo();
    repo.checkout("--detach", "20241124.1");
    const { resources } = await runProgram("release", { source: repo.dir, ...RELEASE_SETTINGS }, SECRET_KEYS);
    const ralph = buildOf(named(resources, "ralph-images-ralph"));
    expect(ralph.args).toMatchObject({ SNAPSHOT: "0", DEBIAN_VERSION: "20241124.1", RALPH_VERSION: "20241124.1" });
    const pushes = pushRequests(resources);
    expect(
      sorted(pushes.map((p) => [p.repository, p.tags, p.username, p.versionTag?.tag, p.versionTag?.recordFile])),
    ).toEqual(
      sorted(
        ["ralph", "ralph-static-nginx", "inkpy"].map((image) => [
          `docker.io/allegro/${image}`,
          ["20241124.1", "latest"],
          "bot",
          "20241124.1",
          expect.stringMatching(new RegExp(`/build/20241124\\.1/images/${image}\\.json$`)),
        ]),
      ),
    );
    // The password reaches the pushes only as a secret in their runtime environment.
    for (const push of resources.filter((r) => r.name.endsWith("-push"))) {
      expect(JSON.stringify(push.inputs.request)).not.toContain("pw-4711");
    }
  });
});

type PushRequestSeen = {
  repository: string;
  tags: string[];
  localImage: string;
  username?: string;
  versionTag?: { repository: string; tag: string; recordFile: string };
};
const pushRequests = (resources: Resource[]) =>
  resources
    .filter((r) => r.name.startsWith("ralph-images-") && r.name.endsWith("-push"))
    .map((r) => stepRequest<PushRequestSeen>(r, "RALPH_IMAGE_PUSH")!);
