/**
 * On a runner that does not have an image this stack built (a fresh CI runner, a laptop), the
 * registry is the artifact store: an image whose version tag this stack pushed is pulled back by
 * digest instead of built again, and kept only when it is the very image the stack built (same id).
 * Pure of Pulumi; `image build` runs it.
 */
import { createHash } from "node:crypto";
import { type MachineRoots, tokenizePaths } from "../steps/machineRoots";
import { buildImage, type ImageBuildRequest } from "./build";
import { openRegistrySession } from "./publish";

/** Where a pushed image can be pulled back from (the build step's runtime environment, never compared). */
export interface ImageAdoption {
  readonly registry: string;
  readonly username?: string;
  /** `<repository>:<tag>`: the tag this image is pushed as first (a release's version tag). */
  readonly reference: string;
  /**
   * What the image is built from (its request, with the images it is built on named by their own
   * requests: their ids change when a runner builds them again). An image is pulled back only for
   * the same fingerprint: a changed recipe or argument builds.
   */
  readonly fingerprint: string;
}

export interface BuiltImage {
  /** The local image's id (`sha256:…`): the digest of its config, so the same id is the same image. */
  readonly id: string;
  readonly tag: string;
  /** `<repository>@<digest>` it was pulled from instead of built, when it was. */
  readonly adopted?: string;
  /** The adoption fingerprint it was made for (ImageAdoption). */
  readonly fingerprint?: string;
  /** Set by a refresh when the image is no longer in the local engine: the next `up` makes it again. */
  readonly missing?: string;
}

/**
 * Builds the image, unless the step's own last result says it was built, for the same fingerprint,
 * and is now missing from this engine, and the registry serves the image with that same id under
 * `adoption.reference`: then that image is pulled and tagged, and nothing is built. Anything else
 * (no such tag, another image there, another fingerprint) builds as usual; whether the tag may be
 * pushed is the push step's decision.
 */
export async function buildOrAdoptImage(
  request: ImageBuildRequest,
  previous: BuiltImage | undefined,
  adoption: ImageAdoption | undefined,
  password: string | undefined,
  log: (chunk: string) => void = () => {},
): Promise<BuiltImage> {
  const fingerprint = adoption ? { fingerprint: adoption.fingerprint } : {};
  if (previous?.missing && adoption && previous.fingerprint === adoption.fingerprint) {
    const adopted = await openRegistrySession(adoption, { password }, async (session) => {
      const digest = await session.digestOf(adoption.reference);
      if (!digest) return undefined;
      const repository = adoption.reference.slice(0, adoption.reference.lastIndexOf(":"));
      const source = `${repository}@${digest}`;
      const id = await session.pull(source);
      if (id !== previous.id) {
        log(`${source} is image ${id}, not ${previous.id} that this stack built: building it again\n`);
        return undefined;
      }
      await session.tagLocal(id, request.tag);
      return source;
    });
    if (adopted) {
      log(`${request.tag}: pulled ${adopted}, the image this stack built (${previous.id}); nothing built\n`);
      return { id: previous.id, tag: request.tag, adopted, ...fingerprint };
    }
  }
  return { ...(await buildImage(request, log)), ...fingerprint };
}

/**
 * The fingerprint of a build request on any machine: its paths from their roots, and each build
 * argument in `builtOn` (an image id, which a runner that builds that image again changes) replaced
 * by the fingerprint of the build that made it. Keys sorted: the same request, the same fingerprint.
 */
export function imageFingerprint(
  request: ImageBuildRequest,
  roots: MachineRoots,
  builtOn: Readonly<Record<string, string>> = {},
): string {
  const tokenized = tokenizePaths(request, roots) as ImageBuildRequest;
  const buildArgs = { ...tokenized.buildArgs, ...builtOn };
  const { tag: _forPeople, ...rest } = { ...tokenized, buildArgs };
  const canonical = JSON.stringify(rest, (_key, value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
  return `sha256:${createHash("sha256").update(canonical).digest("hex")}`;
}
