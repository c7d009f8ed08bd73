/**
 * The image steps that talk to the registry: the release's check before anything is built, and the
 * push of each smoke-tested image. Pure of Pulumi; RalphRelease and RalphImages run them through the
 * CLI (`image check`, `image push`) and the tests call them directly.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../errors";
import { secretSetCommand } from "../config/keys";
import { decideVersionTag, digestOfRef, PublishedTagError, type PushRecord, type TagDecision } from "./immutable";
import type { Settings } from "../config";
import type { CheckoutVersion } from "../version/version";
import { type ImageName, imageRepository, isNewerRelease } from "./names";
import { type RegistryLogin, RegistrySession } from "./registry";

/** Where the digest a release's version tag was pushed with is recorded: beside that version's deb. */
export function pushRecordFile(outDir: string, debianVersion: string, image: ImageName): string {
  return join(outDir, debianVersion, "images", `${image}.json`);
}

function readRecord(file: string, reference: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const record = JSON.parse(readFileSync(file, "utf8")) as PushRecord;
  return record.reference === reference ? record.digest : undefined;
}

/** What the steps learn from the stack at run time rather than from their request (never compared). */
export interface RegistryFacts {
  /** The registry password, when the request names a username. */
  readonly password?: string;
  /** What this stack's resources' state says it pushed: `<repository>:<tag>` → digest. */
  readonly recordedTags: Readonly<Record<string, string>>;
  /** What this very push step recorded last time (its own state): the record that is never stale. */
  readonly previous?: PushResult;
}

interface RegistryAccess {
  readonly registry: string;
  readonly username?: string;
}

/** A session with the registry the request names, logged in when it names a username. */
export async function openRegistrySession<T>(
  request: RegistryAccess,
  facts: Pick<RegistryFacts, "password">,
  use: (s: RegistrySession) => Promise<T>,
): Promise<T> {
  if (request.username && !facts.password) {
    throw new UserError(
      `registryUsername is ${request.username} but registryPassword is not set: ${secretSetCommand("registryPassword")}`,
    );
  }
  const login: RegistryLogin | undefined = request.username
    ? { username: request.username, password: facts.password ?? "" }
    : undefined;
  const session = RegistrySession.open(request.registry, login);
  try {
    return await use(session);
  } finally {
    session.close();
  }
}

export interface VersionTagTarget {
  readonly image: ImageName;
  readonly repository: string;
  /** The tag written once: the release's version. */
  readonly tag: string;
  readonly recordFile: string;
}

/**
 * Decides one version tag from the registry and this stack's records: the push step's own state first
 * (written even when the update as a whole failed), then the file beside the deb (written the moment
 * the tag is), then the state of every push of the stack as this update began.
 */
async function decide(
  session: RegistrySession,
  target: VersionTagTarget,
  facts: RegistryFacts,
  localImage?: string,
): Promise<TagDecision> {
  const reference = `${target.repository}:${target.tag}`;
  // The push step's own last result, when it was of this very tag (a new version's push is an update
  // of the same step, whose last result is the previous version's).
  const own = facts.previous?.tag === target.tag ? digestOfRef(facts.previous.ref, target.repository) : undefined;
  const published = await session.digestOf(reference);
  const recorded = own ?? readRecord(target.recordFile, reference) ?? facts.recordedTags[reference];
  // A push that died between writing the tag and recording it left no record: the tag is still this
  // push's when it serves the very image being pushed (the same id names the same config and layers).
  if (published && published !== recorded && localImage && (await session.imageIdOf(reference)) === localImage) {
    return { kind: "adopt", digest: published };
  }
  return decideVersionTag({ reference, published, recorded, recordFile: target.recordFile });
}

/** A release image's version tag, with the file its push is recorded in. */
export function versionTagTarget(
  images: Pick<Settings["images"], "registry" | "namespace">,
  checkout: Pick<CheckoutVersion, "version" | "debianVersion">,
  outDir: string,
  image: ImageName,
): VersionTagTarget {
  return {
    image,
    repository: imageRepository(images.registry, images.namespace, image),
    tag: checkout.version,
    recordFile: pushRecordFile(outDir, checkout.debianVersion, image),
  };
}

export interface PublishedCheckRequest extends RegistryAccess {
  readonly targets: readonly VersionTagTarget[];
}

/**
 * The release's check before anything is built: every version tag is either free or this stack's.
 * All refusals are reported at once.
 */
export async function checkPublishedImages(
  request: PublishedCheckRequest,
  facts: RegistryFacts,
): Promise<Record<string, TagDecision>> {
  return openRegistrySession(request, facts, async (session) => {
    const decisions: Record<string, TagDecision> = {};
    const refusals: string[] = [];
    for (const target of request.targets) {
      try {
        decisions[target.image] = await decide(session, target, facts);
      } catch (error) {
        if (!(error instanceof PublishedTagError)) throw error;
        refusals.push(error.message);
      }
    }
    if (refusals.length > 0) throw new PublishedTagError(refusals.join("\n"));
    return decisions;
  });
}

export interface PushRequest extends RegistryAccess {
  readonly image: ImageName;
  /** The smoke-tested local image, by id. */
  readonly localImage: string;
  readonly repository: string;
  /** Every tag it gets, version first. */
  readonly tags: readonly string[];
  /** A release version tag (a release, or a snapshot of its commit): written once, decided right before pushing, and the push recorded. */
  readonly versionTag?: VersionTagTarget;
}

export interface PushResult {
  /** `<repository>@<digest>` of the version tag as the registry serves it. */
  readonly ref: string;
  /** The version tag it is of. */
  readonly tag?: string;
  readonly digest: string;
  /** The tags pushed by this run: none when the release's version tag was already this stack's. */
  readonly pushed: readonly string[];
  /** The release version `latest` already points at, newer than this one: `latest` was left alone. */
  readonly latestStays?: string;
  /**
   * Set by a refresh when the version tag no longer serves `digest` (moved, or gone): the next `up`
   * runs the push again, which re-pushes a snapshot's tag and refuses a release's.
   */
  readonly drift?: string;
}

/**
 * The version `latest` keeps when it already points at a newer release than `version` (by its OCI
 * version label, which every image of this pipeline carries): `latest` never moves back.
 */
function newerLatest(version: string, latestVersion: string | undefined): string | undefined {
  return isNewerRelease(latestVersion, version) ? latestVersion : undefined;
}

/**
 * Pushes one image's tags. For a release the version tag is decided first, against the registry as
 * it is at that moment: pushed when free (after the other tags: written last, it completes the
 * push), left alone when this stack's (any other tag it lacks is written from the registry's copy),
 * refused when another build's. Snapshots overwrite their own tags freely.
 */
export async function pushImage(
  request: PushRequest,
  facts: RegistryFacts,
  log: (line: string) => void = () => {},
): Promise<PushResult> {
  const versionReference = `${request.repository}:${request.tags[0]}`;
  return openRegistrySession(request, facts, async (session) => {
    // A release's version tag that a refresh found moved or gone since this stack pushed it is not
    // pushed again (on a fresh runner that would be another build): it is put back, deliberately.
    if (request.versionTag && facts.previous?.drift && facts.previous.tag === request.tags[0]) {
      throw new PublishedTagError(
        `${facts.previous.drift}.\n  A release's version tag is never replaced: users may already run that image.\n` +
          `  fix: put it back: skopeo copy docker://${facts.previous.ref} docker://${versionReference} (then refresh), ` +
          "or release a new patch version (npm run release-new-version)",
      );
    }
    const decision = request.versionTag
      ? await decide(session, request.versionTag, facts, request.localImage)
      : { kind: "push" as const };
    const latestStays = request.tags.includes("latest")
      ? newerLatest(request.tags[0], await session.versionLabelOf(`${request.repository}:latest`))
      : undefined;
    if (latestStays) log(`${request.repository}:latest stays at ${latestStays}, newer than ${request.tags[0]}`);
    const [, ...otherTags] = request.tags.filter((t) => t !== "latest" || !latestStays);
    if (decision.kind === "adopt") {
      // The version tag is this stack's. A push that died after writing it left the other tags behind:
      // they are written from the registry's copy, by digest, so no local image is needed.
      log(`${versionReference} is already this stack's ${decision.digest}`);
      const pushed: string[] = [];
      for (const tag of otherTags) {
        const reference = `${request.repository}:${tag}`;
        if ((await session.digestOf(reference)) === decision.digest) continue;
        log(`tagging ${reference} as ${decision.digest}`);
        await session.copy(`${request.repository}@${decision.digest}`, reference);
        pushed.push(tag);
      }
      if (pushed.length === 0) log("nothing pushed");
      const ref = `${request.repository}@${decision.digest}`;
      return { ref, tag: request.tags[0], digest: decision.digest, pushed, ...(latestStays ? { latestStays } : {}) };
    }
    // The version tag goes last: once it is written the push is complete, so a run that dies on an
    // earlier tag left nothing written once, and the next run pushes it all again.
    for (const tag of otherTags) {
      log(`pushing ${request.repository}:${tag}`);
      await session.push(request.localImage, `${request.repository}:${tag}`);
    }
    log(`pushing ${versionReference}`);
    await session.push(request.localImage, versionReference);
    const digest = await session.digestOf(versionReference);
    if (!digest) throw new UserError(`${versionReference} was pushed but the registry does not serve it`);
    if (request.versionTag) {
      const record: PushRecord = { reference: versionReference, digest };
      mkdirSync(dirname(request.versionTag.recordFile), { recursive: true });
      writeFileSync(request.versionTag.recordFile, `${JSON.stringify(record, null, 2)}\n`);
    }
    const pushed = [request.tags[0], ...otherTags];
    const ref = `${request.repository}@${digest}`;
    return { ref, tag: request.tags[0], digest, pushed, ...(latestStays ? { latestStays } : {}) };
  });
}
