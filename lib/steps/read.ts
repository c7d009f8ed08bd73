/**
 * What `pulumi refresh` learns of each step: whether what it made is still there, as it is now. A deb
 * in build/, a staged context or the attested files that are gone read as gone, so the next `up`
 * makes them again; a local image that is gone reads as missing (its next run may pull it back); a
 * pushed version tag reads what the registry serves now. Steps that
 * make nothing lasting (checks, smoke tests, waits) read as they were.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { directoryDigest, sha256File, type DebArtifact } from "../deb/build";
import type { BuiltImage } from "../images/adopt";
import type { StagedContext } from "../images/build";
import { type PushRequest, type PushResult, openRegistrySession, type RegistryFacts } from "../images/publish";
import { type AptlyPublication, type AptlyPublishRequest, publishedSha256 } from "../publish/aptly";
import { UserError } from "../errors";
import { type GithubReleaseRequest, type GithubReleaseResult, readRelease } from "../github/releaseClient";
import { runStep, tail } from "../runner";
import type { AttestResult } from "../supply/attest";

export interface StepReadRequest {
  /** The CLI words of the step (`deb build`). */
  readonly command: string;
  /** Its request and its last result, on this machine's paths. */
  readonly request: unknown;
  readonly result?: unknown;
}

export interface StepReading {
  /** Whether what the step made is still there; gone means the next `up` makes it again. */
  readonly present: boolean;
  /** The result as it is now, when it differs from the one recorded. */
  readonly result?: unknown;
}

const unchanged: StepReading = { present: true };

/** A published object read back: `drift` says how it differs from what the step made, none when it does not. */
function withDrift<T extends { readonly drift?: string }>(result: T, drift: string | undefined): StepReading {
  return drift === undefined && result.drift === undefined
    ? unchanged
    : { present: true, result: { ...result, drift } };
}

/** Whether the engine has the image; an engine that cannot be asked is an error, never "gone". */
async function localImageExists(id: string): Promise<boolean> {
  const inspected = await runStep({ kind: "host" }, ["docker", "image", "inspect", "--format", "{{.Id}}", id], {
    cwd: "/",
  });
  if (inspected.status === 0) return true;
  if (/no such (image|object)|image not known|not found/i.test(inspected.output)) return false;
  throw new UserError(
    `could not ask the container engine about image ${id}: ${tail(inspected.output, 5)}\n` +
      "  fix: start it (or set DOCKER_HOST) and refresh again; nothing was forgotten.",
  );
}

async function readDeb(result: DebArtifact): Promise<StepReading> {
  if (!existsSync(result.path)) return { present: false };
  return { present: (await sha256File(result.path)) === result.sha256 };
}

async function readPush(request: PushRequest, result: PushResult, facts: RegistryFacts): Promise<StepReading> {
  const reference = `${request.repository}:${request.tags[0]}`;
  const now = await openRegistrySession(request, facts, (session) => session.digestOf(reference));
  if (now === result.digest) return withDrift(result, undefined);
  return withDrift(result, `${reference} ${now ? `serves ${now}` : "is gone"}; this stack pushed ${result.digest}`);
}

function readAptly(request: AptlyPublishRequest, result: AptlyPublication): StepReading {
  // A root that holds no such publication is not this machine's to judge (another runner's
  // build/aptly): only a publication that is here and lacks the package has drifted.
  if (!existsSync(join(request.rootDir, "public", request.prefix, "dists", request.release))) return unchanged;
  const now = publishedSha256(request, result);
  if (now === request.sha256) return withDrift(result, undefined);
  const where = `the aptly publication ${request.prefix} ${request.release}`;
  return withDrift(
    result,
    now
      ? `${result.packageRef} in ${where} is sha256 ${now}; this stack published ${request.sha256}`
      : `${result.packageRef} is gone from ${where}; this stack published it (sha256 ${request.sha256})`,
  );
}

export async function readStep(
  read: StepReadRequest,
  facts: RegistryFacts,
  githubToken?: string,
): Promise<StepReading> {
  if (read.result === undefined) return { present: false };
  switch (read.command) {
    case "deb build":
      return readDeb(read.result as DebArtifact);
    case "image build": {
      // Kept in the state, marked missing: the next `up` runs the build with this result as its own
      // last one, and pulls a pushed image back by digest instead of building another.
      const built = read.result as BuiltImage;
      if (await localImageExists(built.id))
        return built.missing ? { present: true, result: { ...built, missing: undefined } } : unchanged;
      return {
        present: true,
        result: { ...built, missing: `image ${built.id} is not in this machine's container engine` },
      };
    }
    case "image stage": {
      const staged = read.result as StagedContext;
      return { present: existsSync(staged.context) && directoryDigest(staged.context) === staged.digest };
    }
    case "image push":
      return readPush(read.request as PushRequest, read.result as PushResult, facts);
    case "apt aptly":
      return readAptly(read.request as AptlyPublishRequest, read.result as AptlyPublication);
    case "github release": {
      const published = read.result as GithubReleaseResult;
      const drift = await readRelease(read.request as GithubReleaseRequest, githubToken ?? "", published);
      return withDrift(published, drift);
    }
    case "supply attest": {
      const attested = read.result as AttestResult;
      return { present: attested.files.every((file) => existsSync(join(attested.artifactDir, file))) };
    }
    default:
      return unchanged;
  }
}
