/**
 * On a runner that does not have an image this stack built (a fresh CI runner, a laptop), the
 * registry is the artifact store: an image whose version tag this stack pushed is pulled back by
 * digest instead of built again, and kept only when it is the very image the stack built (same id).
 * Pure of Pulumi; `image build` runs it.
 */
import { buildImage, type ImageBuildRequest } from "./build";
import { openRegistrySession } from "./publish";

/** Where a pushed image can be pulled back from (the build step's runtime environment, never compared). */
export interface ImageAdoption {
  readonly registry: string;
  readonly username?: string;
  /** `<repository>:<tag>`: the tag this image is pushed as first (a release's version tag). */
  readonly reference: string;
}

export interface BuiltImage {
  /** The local image's id (`sha256:…`): the digest of its config, so the same id is the same image. */
  readonly id: string;
  readonly tag: string;
  /** `<repository>@<digest>` it was pulled from instead of built, when it was. */
  readonly adopted?: string;
  /** Set by a refresh when the image is no longer in the local engine: the next `up` makes it again. */
  readonly missing?: string;
}

/**
 * Builds the image, unless the step's own last result says it was built and is now missing from this
 * engine and the registry serves the image with that same id under `adoption.reference`: then that
 * image is pulled and tagged, and nothing is built. Anything else (no such tag, another image there)
 * builds as usual; whether the tag may be pushed is the push step's decision.
 */
export async function buildOrAdoptImage(
  request: ImageBuildRequest,
  previous: BuiltImage | undefined,
  adoption: ImageAdoption | undefined,
  password: string | undefined,
  log: (chunk: string) => void = () => {},
): Promise<BuiltImage> {
  if (previous?.missing && adoption) {
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
      return { id: previous.id, tag: request.tag, adopted };
    }
  }
  return buildImage(request, log);
}
