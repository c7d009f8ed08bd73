import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildOrAdoptImage, type BuiltImage, type ImageAdoption, imageFingerprint } from "../../../lib/images/adopt";
import type { ImageBuildRequest } from "../../../lib/images/build";
import { BASE_IMAGE, docker, useContainerEngine } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

const REGISTRY = "127.0.0.1:5000";
const ROOTS = { project: "/tmp/project", checkout: "/tmp/ralph" };

afterAll(removeTempDirs);

/** A build request of its own: another marker is another image. */
function request(marker: string, tag: string): ImageBuildRequest {
  const context = tempDir("ralph-release-adopt-");
  writeFileSync(join(context, "Dockerfile"), `FROM ${BASE_IMAGE}\nRUN echo ${marker} > /marker\n`);
  return { context, dockerfile: join(context, "Dockerfile"), buildArgs: {}, tag, contextDigest: marker };
}

const hasImage = async (id: string) =>
  docker("image", "inspect", "--format", "{{.Id}}", id).then(
    () => true,
    () => false,
  );

describe("a runner without the image this stack built pulls it back from the registry", () => {
  const repository = `${REGISTRY}/adopt${Date.now()}/ralph`;
  const ours = request(`ours-${Date.now()}`, `${repository}:20241124.1`);
  const adoption: ImageAdoption = {
    registry: REGISTRY,
    reference: `${repository}:20241124.1`,
    fingerprint: imageFingerprint(ours, ROOTS),
  };
  let built: BuiltImage;

  beforeAll(async () => {
    useContainerEngine();
    built = await buildOrAdoptImage(ours, undefined, adoption, undefined);
    await docker("push", ours.tag);
  }, 120_000);

  it("the same image, by id, with nothing built: when its version tag serves it", async () => {
    await docker("image", "rm", "--force", built.id);
    const log: string[] = [];
    const missing = { ...built, missing: `image ${built.id} is not in this machine's container engine` };
    const adopted = await buildOrAdoptImage(ours, missing, adoption, undefined, (line) => log.push(line));
    expect(adopted.id).toBe(built.id);
    expect(built.fingerprint).toBe(adoption.fingerprint);
    expect(adopted.adopted).toMatch(new RegExp(`^${repository}@sha256:[0-9a-f]{64}$`));
    expect(await hasImage(ours.tag)).toBe(true);
    expect(log.join("")).toContain("nothing built");
  }, 120_000);

  it("built again when the tag serves another image, or when the image is not missing", async () => {
    const other = request(`other-${Date.now()}`, `${repository}:20241124.1`);
    const otherId = (await buildOrAdoptImage(other, undefined, undefined, undefined)).id;
    await docker("push", other.tag);
    const log: string[] = [];
    const rebuilt = await buildOrAdoptImage(ours, { ...built, missing: "gone" }, adoption, undefined, (line) =>
      log.push(line),
    );
    expect(rebuilt.adopted).toBeUndefined();
    expect(log.join("")).toContain(`is image ${otherId}, not ${built.id} that this stack built: building it again`);
    // Missing, but made for another request (a changed recipe or argument): it builds.
    const changed = {
      ...adoption,
      fingerprint: imageFingerprint({ ...ours, buildArgs: { X: "1" } }, ROOTS),
    };
    expect(changed.fingerprint).not.toBe(adoption.fingerprint);
    const forAnother = await buildOrAdoptImage(ours, { ...built, missing: "gone" }, changed, undefined);
    expect(forAnother).toMatchObject({ fingerprint: changed.fingerprint });
    expect(forAnother.adopted).toBeUndefined();
    // A result that is not missing is an update for another reason: it builds, never pulls.
    const updated = await buildOrAdoptImage(ours, built, adoption, undefined);
    expect(updated.adopted).toBeUndefined();
  }, 180_000);
});
