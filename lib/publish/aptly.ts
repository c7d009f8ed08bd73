/**
 * A self-hosted apt repository with aptly: the deb goes into a local aptly repo, which is published
 * (signed when a GPG key is configured) under `<rootDir>/public/<prefix>/`, so that
 * `deb <served public dir>/<prefix>/ <release> main` is an apt source laid out like packagecloud's.
 * A release publishes under `<distro>`, a snapshot under `snapshots/<distro>`, each from a local repo of
 * its own: a snapshot never lands where release users install from.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
import { fingerprintOf } from "../supply/checksums";
import type { Mode } from "../version/version";
import { sha256OfFile } from "./packagecloud";
import { aptlyIndexedSha256 } from "./published";

/** Where in an aptly root's public tree snapshots are published (releases: at its top). */
export const SNAPSHOT_PREFIX = "snapshots";
/** aptly's package query for snapshot versions (`…~<branch>.SNAPSHOT.<n>`). */
const SNAPSHOT_QUERY = "Version (%*SNAPSHOT*)";

/** The local repository and publish prefix of a mode's publication in an aptly root. */
export function aptlyPublicationFor(
  mode: Mode,
  distro: string,
  release: string,
): { readonly repository: string; readonly prefix: string } {
  return mode === "release"
    ? { repository: `ralph-${distro}-${release}`, prefix: distro }
    : { repository: `ralph-${SNAPSHOT_PREFIX}-${distro}-${release}`, prefix: `${SNAPSHOT_PREFIX}/${distro}` };
}

export interface AptlyPublishRequest {
  /** aptly's root directory (database, pool, `public/`). */
  readonly rootDir: string;
  /** Name of the aptly local repository. */
  readonly repository: string;
  readonly distro: string;
  readonly release: string;
  /** Publish prefix (aptlyPublicationFor): `<distro>` for a release, `snapshots/<distro>` for a snapshot. */
  readonly prefix: string;
  readonly debPath: string;
  /** The verified checksum; a file that changed since is refused. */
  readonly sha256: string;
  /** GPG key id to sign with; unsigned (`-skip-signing`) when absent. */
  readonly gpgKey?: string;
  /** GnuPG home holding that key; the user's own when absent. */
  readonly gnupgHome?: string;
}

export interface AptlyPublication {
  /** The directory to serve over HTTP. */
  readonly publicDir: string;
  /** Publish prefix: the apt source is `<served publicDir>/<prefix>/ <release> main`. */
  readonly prefix: string;
  readonly release: string;
  readonly signed: boolean;
  /** `name_version_arch` of the package in the repository. */
  readonly packageRef: string;
  /** `<publicDir>/gpgkey`: the armored public key apt clients trust (signed publications only). */
  readonly keyFile?: string;
  /** Its primary key's fingerprint: the pin a release image checks the downloaded key against. */
  readonly keyFingerprint?: string;
  /** Set by a refresh that found the package gone from the publication, or another file in its place. */
  readonly drift?: string;
}

/** The sha256 the publication's index gives the package now; undefined when it is not there. */
export function publishedSha256(request: AptlyPublishRequest, publication: AptlyPublication): string | undefined {
  const [packageName, version, architecture] = publication.packageRef.split("_");
  return aptlyIndexedSha256({ ...request, packageName, version, architecture });
}

/** Whether the publication is a release's (snapshots publish under `snapshots/`). */
const isReleasePublication = (request: AptlyPublishRequest) => !request.prefix.startsWith(`${SNAPSHOT_PREFIX}/`);

function aptly(configFile: string, args: string[], env: NodeJS.ProcessEnv): { status: number; output: string } {
  const result = spawnSync("aptly", [`-config=${configFile}`, ...args], { encoding: "utf8", env });
  if (result.error) {
    throw new UserError(
      "aptly is not installed (needed for the `aptly` deb target). Fix: `apt-get install aptly`, or leave " +
        "aptly out of `debTargets`.",
    );
  }
  return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}`.trim() };
}

function must(configFile: string, args: string[], env: NodeJS.ProcessEnv): string {
  const { status, output } = aptly(configFile, args, env);
  if (status !== 0) throw new UserError(`aptly ${args.join(" ")} failed (exit ${status}):\n${output}`);
  return output;
}

function debField(debPath: string, field: string): string {
  return execFileSync("dpkg-deb", ["--field", debPath, field], { encoding: "utf8" }).trim();
}

/** Adds the deb and (re)publishes. Safe to repeat: the same file again changes nothing. */
/**
 * Adds the deb to the publication and publishes it. `previous` is what this step published last:
 * when a refresh found that gone from a release's publication, it is not published again behind its
 * maintainers' back (a snapshot's is).
 */
export async function publishToAptly(
  request: AptlyPublishRequest,
  previous?: AptlyPublication,
): Promise<AptlyPublication> {
  if (previous?.drift && isReleasePublication(request)) {
    throw new UserError(
      `${previous.drift}. A release's package is not published again behind its maintainers' back. Fix: to leave ` +
        "it out, release a new version; to publish it again, forget it here (pulumi state delete the " +
        "ralph-core-aptly-publish resource: pulumi stack --show-urns names it) and run up.",
    );
  }
  const actual = await sha256OfFile(request.debPath);
  if (actual !== request.sha256) {
    throw new UserError(
      `${request.debPath} changed after it was verified (sha256 ${actual}, verified ${request.sha256}); ` +
        "nothing was published. Fix: run the update again so the deb is rebuilt and verified.",
    );
  }
  const env = request.gnupgHome ? { ...process.env, GNUPGHOME: request.gnupgHome } : process.env;
  mkdirSync(request.rootDir, { recursive: true });
  const configFile = join(request.rootDir, "aptly.conf");
  writeFileSync(
    configFile,
    JSON.stringify({ rootDir: request.rootDir, architectures: ["amd64"], gpgProvider: "gpg" }, null, 2),
  );
  if (aptly(configFile, ["repo", "show", request.repository], env).status !== 0) {
    must(
      configFile,
      ["repo", "create", `-distribution=${request.release}`, "-component=main", request.repository],
      env,
    );
  }

  if (!request.prefix.startsWith(`${SNAPSHOT_PREFIX}/`)) {
    // Before snapshots had a publication of their own they went into this one: never publish them to
    // release users again.
    const snapshots = aptly(configFile, ["repo", "search", request.repository, SNAPSHOT_QUERY], env);
    if (snapshots.status === 0 && snapshots.output.trim() !== "") {
      throw new UserError(
        `aptly repository '${request.repository}' (${request.rootDir}) holds snapshots, which would be published to ` +
          `release users (${snapshots.output.trim().split("\n").join(", ")}); nothing was published. Fix: ` +
          `aptly -config=${configFile} repo remove ${request.repository} '${SNAPSHOT_QUERY}', then run the update again.`,
      );
    }
  }
  const packageRef = ["Package", "Version", "Architecture"].map((f) => debField(request.debPath, f)).join("_");
  const added = aptly(configFile, ["repo", "add", request.repository, request.debPath], env);
  if (added.status !== 0) {
    if (/conflict/i.test(added.output)) {
      throw new UserError(
        `${packageRef} is already in aptly repository '${request.repository}' (${request.rootDir}) with different ` +
          "content. A published version never changes. Fix: release a new version (a new tag, or a new commit " +
          `for a snapshot); to replace a snapshot, \`aptly -config=${configFile} repo remove ${request.repository} ${packageRef}\` first.`,
      );
    }
    throw new UserError(`aptly repo add failed (exit ${added.status}):\n${added.output}`);
  }

  const signing = request.gpgKey ? [`-gpg-key=${request.gpgKey}`] : ["-skip-signing"];
  const published = must(configFile, ["publish", "list", "-raw"], env)
    .split("\n")
    .some((line) => line.trim() === `${request.prefix} ${request.release}`);
  const publicDir = join(request.rootDir, "public");
  const signedIndex = join(publicDir, request.prefix, "dists", request.release, "InRelease");
  if (published && !request.gpgKey && existsSync(signedIndex)) {
    // aptly would rewrite Packages and leave the old InRelease, whose hashes then match nothing:
    // every apt client of the repository would fail.
    throw new UserError(
      `${join(publicDir, request.prefix)} (${request.release}) is a signed publication, and this publish is unsigned: ` +
        "nothing was published. Fix: set aptlyGpgKey to the key that signs it, or publish to another aptlyRoot.",
    );
  }
  if (published) {
    must(configFile, ["publish", "update", ...signing, request.release, request.prefix], env);
  } else {
    must(
      configFile,
      [
        "publish",
        "repo",
        ...signing,
        `-distribution=${request.release}`,
        "-component=main",
        request.repository,
        request.prefix,
      ],
      env,
    );
  }
  let keyFile: string | undefined;
  let keyFingerprint: string | undefined;
  if (request.gpgKey) {
    keyFile = join(publicDir, "gpgkey");
    const key = execFileSync("gpg", ["--batch", "--armor", "--export", request.gpgKey], { env, encoding: "utf8" });
    writeFileSync(keyFile, key);
    keyFingerprint = fingerprintOf({ keyId: request.gpgKey, gnupgHome: request.gnupgHome });
  }
  return {
    publicDir,
    prefix: request.prefix,
    release: request.release,
    signed: request.gpgKey !== undefined,
    packageRef,
    keyFile,
    keyFingerprint,
  };
}
