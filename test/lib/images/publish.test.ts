import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PublishedTagError } from "../../../lib/images/immutable";
import {
  checkPublishedImages,
  pushImage,
  type PushRequest,
  type RegistryFacts,
  versionTagTarget,
} from "../../../lib/images/publish";
import { RegistryError } from "../../../lib/images/registry";
import type { ImageName } from "../../../lib/images/names";
import { BASE_IMAGE, docker, useContainerEngine } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { manifestPuts, RegistryApi, startLoginRegistry, tagPutOrder } from "../../support/registry";

const REGISTRY = "127.0.0.1:5000";
const registry = new RegistryApi(`http://${REGISTRY}`);
const RELEASE = { version: "20241124.1", debianVersion: "20241124.1" };
const NO_RECORD: RegistryFacts = { recordedTags: {} };

afterAll(removeTempDirs);

/**
 * A small local image of its own: builds with another marker are other builds (other digests); with
 * `version`, the OCI version label every image of the pipeline carries.
 */
async function localBuild(marker: string, version?: string): Promise<string> {
  const dir = tempDir("ralph-release-image-");
  const label = version ? `LABEL org.opencontainers.image.version=${version}\n` : "";
  writeFileSync(join(dir, "Dockerfile"), `FROM ${BASE_IMAGE}\nLABEL build.marker=${marker}\n${label}`);
  await docker("build", "--quiet", "--tag", `localhost/ralph-release-test/${marker}`, dir);
  return docker("image", "inspect", "--format", "{{.Id}}", `localhost/ralph-release-test/${marker}`);
}

/** A release stack's view of one image: its push request, in a namespace (and build/ directory) of its own. */
function releaseImage(image: ImageName, outDir = tempDir("ralph-release-build-")) {
  const namespace = `immutable${Date.now()}${Math.random().toString(16).slice(2, 6)}`;
  const target = versionTagTarget({ registry: REGISTRY, namespace }, RELEASE, outDir, image);
  const push = (localImage: string, facts: RegistryFacts = NO_RECORD): ReturnType<typeof pushImage> =>
    pushImage(
      {
        registry: REGISTRY,
        image,
        localImage,
        repository: target.repository,
        tags: [RELEASE.version, "latest"],
        versionTag: target,
      } satisfies PushRequest,
      facts,
    );
  const check = (facts: RegistryFacts = NO_RECORD) =>
    checkPublishedImages({ registry: REGISTRY, targets: [target] }, facts);
  return { namespace, target, outDir, repository: target.repository, path: `${namespace}/${image}`, push, check };
}

describe("a release's version tags are written once", () => {
  let buildA = "";
  let buildB = "";
  beforeAll(async () => {
    useContainerEngine();
    [buildA, buildB] = [await localBuild("a"), await localBuild("b")];
  }, 300_000);

  it("a free tag is pushed with latest and recorded beside the deb; the check before building lets it through", async () => {
    const ralph = releaseImage("ralph");
    expect(await ralph.check()).toEqual({ ralph: { kind: "push" } });
    const pushed = await ralph.push(buildA);
    expect(pushed.pushed).toEqual([RELEASE.version, "latest"]);
    expect(pushed.digest).toBe(await registry.digest(ralph.path, RELEASE.version));
    expect(await registry.digest(ralph.path, "latest")).toBe(pushed.digest);
    expect(pushed.ref).toBe(`${ralph.repository}@${pushed.digest}`);
    expect(manifestPuts(ralph.path)).toBe(2);
    // The version tag last: a push that dies on `latest` has written nothing that is written once.
    expect(tagPutOrder(ralph.path)).toEqual(["latest", RELEASE.version]);
    expect(ralph.target.recordFile).toBe(join(ralph.outDir, "20241124.1", "images", "ralph.json"));
    expect(JSON.parse(readFileSync(ralph.target.recordFile, "utf8"))).toEqual({
      reference: `${ralph.repository}:${RELEASE.version}`,
      digest: pushed.digest,
    });
  }, 300_000);

  it("re-run on a fresh state with this machine's record: the check passes and the push adopts, nothing is pushed", async () => {
    const ralph = releaseImage("ralph");
    const first = await ralph.push(buildA);
    const puts = manifestPuts(ralph.path);
    // A fresh state: no recorded imageRefs; the record beside the deb is still there.
    expect(await ralph.check()).toEqual({ ralph: { kind: "adopt", digest: first.digest } });
    // Images are not reproducible: the re-run's build is another image, and it is not pushed.
    const again = await ralph.push(buildB);
    expect(again).toEqual({ ref: first.ref, tag: RELEASE.version, digest: first.digest, pushed: [] });
    expect(manifestPuts(ralph.path)).toBe(puts);
    expect(await registry.digest(ralph.path, RELEASE.version)).toBe(first.digest);
    expect(await registry.digest(ralph.path, "latest")).toBe(first.digest);
  }, 300_000);

  it("the stack's state is a record too: another machine with the state adopts what the stack pushed", async () => {
    const ralph = releaseImage("ralph");
    const first = await ralph.push(buildA);
    rmSync(ralph.target.recordFile);
    const puts = manifestPuts(ralph.path);
    const withState: RegistryFacts = { recordedTags: { [`${ralph.repository}:${RELEASE.version}`]: first.digest } };
    expect(await ralph.check(withState)).toEqual({ ralph: { kind: "adopt", digest: first.digest } });
    // What the state says of another tag is no record of this one.
    const ofAnotherTag: RegistryFacts = { recordedTags: { [`${ralph.repository}:20241123.1`]: first.digest } };
    await expect(ralph.check(ofAnotherTag)).rejects.toThrow(/this stack has no record of pushing it/);
    expect((await ralph.push(buildB, withState)).pushed).toEqual([]);
    expect(manifestPuts(ralph.path)).toBe(puts);
  }, 300_000);

  it("a push that died after its version tag, finished on a fresh runner from the step's own state: latest written in the registry, once", async () => {
    const ralph = releaseImage("ralph");
    // The first run wrote the version tag, then died before `latest` (its step state holds the push;
    // the stack's outputs are the update before).
    const died = await pushImage(
      { registry: REGISTRY, image: "ralph", localImage: buildA, repository: ralph.repository, tags: [RELEASE.version] },
      NO_RECORD,
    );
    rmSync(ralph.target.recordFile, { force: true });
    const puts = manifestPuts(ralph.path);
    const stale: RegistryFacts = {
      recordedTags: { [`${ralph.repository}:${RELEASE.version}`]: `sha256:${"0".repeat(64)}` },
    };
    // A fresh runner: no local image (an id it never had), no record file, a stale stack record.
    const resumed = await ralph.push(`sha256:${"f".repeat(64)}`, { ...stale, previous: died });
    expect(resumed).toEqual({ ref: died.ref, tag: RELEASE.version, digest: died.digest, pushed: ["latest"] });
    expect(await registry.digest(ralph.path, "latest")).toBe(died.digest);
    expect(manifestPuts(ralph.path)).toBe(puts + 1);
    // Once: run again, nothing is written.
    expect((await ralph.push(`sha256:${"f".repeat(64)}`, { ...stale, previous: resumed })).pushed).toEqual([]);
    expect(manifestPuts(ralph.path)).toBe(puts + 1);
    // The step's last result of another version is no record of this one's tag.
    const ofAnother = { ...resumed, tag: "20241123.1" };
    await expect(ralph.push(`sha256:${"f".repeat(64)}`, { ...stale, previous: ofAnother })).rejects.toThrow(
      `is already published as ${died.digest}, and this stack recorded pushing sha256:${"0".repeat(64)}`,
    );
    // Died between writing the tag and recording it (no state, no file, a stale record): the tag
    // serves the very image being pushed, by id, so it is this push's; another build's is refused.
    expect(await ralph.push(buildA, stale)).toMatchObject({ digest: died.digest, pushed: [] });
    await expect(ralph.push(buildB, stale)).rejects.toThrow(`is already published as ${died.digest}`);
    expect(manifestPuts(ralph.path)).toBe(puts + 1);
    // A refresh found the tag gone (deleted by hand): not pushed again, put back deliberately.
    const gone = {
      ...resumed,
      drift: `${ralph.repository}:${RELEASE.version} is gone; this stack pushed ${died.digest}`,
    };
    await expect(ralph.push(buildA, { ...stale, previous: gone })).rejects.toThrow(
      `put it back: skopeo copy docker://${died.ref} docker://${ralph.repository}:${RELEASE.version}`,
    );
    expect(manifestPuts(ralph.path)).toBe(puts + 1);
  }, 300_000);

  it("re-run on a fresh state elsewhere (no record): refused before building, naming the published digest", async () => {
    const ralph = releaseImage("ralph");
    const first = await ralph.push(buildA);
    rmSync(ralph.target.recordFile);
    const refusal = await ralph.check().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PublishedTagError);
    expect((refusal as Error).message).toContain(
      `${ralph.repository}:20241124.1 is already published as ${first.digest}, and this stack has no record of pushing it`,
    );
    expect((refusal as Error).message).toContain("release a new patch version (npm run release-new-version)");
  }, 300_000);

  it("a version tag moved to another build: check and push both refuse, naming both digests, and push nothing", async () => {
    const ralph = releaseImage("ralph");
    const ours = await ralph.push(buildA);
    // Someone pushes another build over the release's tag.
    await docker("tag", buildB, `${ralph.repository}:${RELEASE.version}`);
    await docker("push", "--quiet", `${ralph.repository}:${RELEASE.version}`);
    const theirs = await registry.digest(ralph.path, RELEASE.version);
    expect(theirs).not.toBe(ours.digest);
    const puts = manifestPuts(ralph.path);
    for (const attempt of [() => ralph.check(), () => ralph.push(buildA)]) {
      const refusal = await attempt().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(PublishedTagError);
      expect((refusal as Error).message).toContain(
        `${ralph.repository}:20241124.1 is already published as ${theirs}, and this stack recorded pushing ${ours.digest}`,
      );
    }
    expect(manifestPuts(ralph.path)).toBe(puts);
    expect(await registry.digest(ralph.path, RELEASE.version)).toBe(theirs);
  }, 300_000);

  it("the check reports every refused image at once", async () => {
    const outDir = tempDir("ralph-release-build-");
    const images = (["ralph", "ralph-static-nginx"] as const).map((image) => releaseImage(image, outDir));
    for (const image of images) {
      await image.push(buildA);
      rmSync(image.target.recordFile);
    }
    const targets = images.map((image) => image.target);
    const refusal = await checkPublishedImages({ registry: REGISTRY, targets }, NO_RECORD).catch((e: unknown) => e);
    for (const image of images) expect((refusal as Error).message).toContain(`${image.repository}:20241124.1`);
  }, 300_000);

  it("latest never moves back: release 2 then a patch of release 1 leaves latest on release 2's digest", async () => {
    const namespace = `immutable${Date.now()}latest`;
    const release = (version: string, localImage: string) => {
      const target = versionTagTarget(
        { registry: REGISTRY, namespace },
        { version, debianVersion: version },
        tempDir("ralph-release-build-"),
        "ralph",
      );
      const request = { registry: REGISTRY, image: "ralph" as const, localImage, repository: target.repository };
      return pushImage({ ...request, tags: [version, "latest"], versionTag: target }, NO_RECORD);
    };
    const newer = await release("20241124.2", await localBuild("newer", "20241124.2"));
    expect(newer.pushed).toEqual(["20241124.2", "latest"]);
    const older = await release("20241124.1", await localBuild("older", "20241124.1"));
    expect(older).toMatchObject({ pushed: ["20241124.1"], latestStays: "20241124.2" });
    expect(await registry.digest(`${namespace}/ralph`, "latest")).toBe(newer.digest);
    expect(await registry.digest(`${namespace}/ralph`, "20241124.1")).toBe(older.digest);
    // A newer release moves it on.
    const next = await release("20241125.1", await localBuild("next", "20241125.1"));
    expect(next.pushed).toEqual(["20241125.1", "latest"]);
    expect(await registry.digest(`${namespace}/ralph`, "latest")).toBe(next.digest);
  }, 300_000);

  it("a snapshot overwrites its own tag freely and records nothing", async () => {
    const namespace = `snapshot${Date.now()}`;
    const repository = `${REGISTRY}/${namespace}/ralph`;
    const tag = "20241125.1-feature-SNAPSHOT";
    const request = (localImage: string): PushRequest => ({
      registry: REGISTRY,
      image: "ralph",
      localImage,
      repository,
      tags: [tag],
    });
    const first = await pushImage(request(buildA), NO_RECORD);
    const second = await pushImage(request(buildB), NO_RECORD);
    expect(second.digest).not.toBe(first.digest);
    expect(await registry.digest(`${namespace}/ralph`, tag)).toBe(second.digest);
    expect(await registry.tags(`${namespace}/ralph`)).toEqual([tag]);
  }, 300_000);
});

describe("a registry that requires a login", () => {
  let login: Awaited<ReturnType<typeof startLoginRegistry>>;
  let build = "";
  beforeAll(async () => {
    useContainerEngine();
    login = await startLoginRegistry();
    build = await localBuild("login");
  }, 300_000);
  afterAll(() => login?.close());

  const request = (localImage: string, username: string, tag = "20241124.1"): PushRequest => ({
    registry: login.address,
    username,
    image: "ralph",
    localImage,
    repository: `${login.address}/allegro/ralph`,
    tags: [tag],
    versionTag: {
      image: "ralph",
      repository: `${login.address}/allegro/ralph`,
      tag,
      recordFile: join(tempDir("ralph-release-build-"), "ralph.json"),
    },
  });

  it("pushes and reads the tag logged in with the password from the stack's secrets", async () => {
    const pushed = await pushImage(request(build, login.username), { password: login.password, recordedTags: {} });
    expect(pushed.pushed).toEqual(["20241124.1"]);
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(login.log, "utf8")).toContain('"PUT /v2/allegro/ralph/manifests/20241124.1');
  }, 300_000);

  it("a wrong password fails at the first question to the registry, with the keys to fix and no password", async () => {
    const wrong = "not-the-password-4711";
    const refusal = await pushImage(request(build, login.username), { password: wrong, recordedTags: {} }).catch(
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(RegistryError);
    expect((refusal as Error).message).toMatch(
      /could not ask 127\.0\.0\.1:5001 about 127\.0\.0\.1:5001\/allegro\/ralph:20241124\.1/,
    );
    expect((refusal as Error).message).toContain("fix: check registryUsername (releasebot) and registryPassword");
    expect((refusal as Error).message).not.toContain(wrong);
  }, 300_000);

  it("a username without a password is refused before anything runs", async () => {
    await expect(pushImage(request(build, "releasebot"), { recordedTags: {} })).rejects.toThrow(
      /registryPassword is not set: pulumi config set --secret registryPassword/,
    );
  });

  it("no throw-away Docker config outlives a push, failed or not", async () => {
    const before = new Set(readdirOfTmp());
    await pushImage(request(build, login.username, "20241124.2"), { password: login.password, recordedTags: {} });
    await expect(
      pushImage(request(build, login.username), { password: "wrong", recordedTags: {} }),
    ).rejects.toBeInstanceOf(RegistryError);
    expect(readdirOfTmp().filter((name) => !before.has(name))).toEqual([]);
  }, 300_000);
});

function readdirOfTmp(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith("ralph-release-registry-"));
}

describe("an unreachable registry", () => {
  it("is an error naming the registry and the tag, not an absent tag", async () => {
    const target = versionTagTarget(
      { registry: "127.0.0.1:1", namespace: "allegro" },
      RELEASE,
      tempDir("ralph-release-build-"),
      "ralph",
    );
    const refusal = await checkPublishedImages({ registry: "127.0.0.1:1", targets: [target] }, NO_RECORD).catch(
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(RegistryError);
    expect((refusal as Error).message).toMatch(
      /could not ask 127\.0\.0\.1:1 about 127\.0\.0\.1:1\/allegro\/ralph:20241124\.1/,
    );
    expect(existsSync(target.recordFile)).toBe(false);
  }, 120_000);
});
