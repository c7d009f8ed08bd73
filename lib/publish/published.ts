/**
 * A release's deb check before anything is built: for each target, is this version already
 * published, and if so, is it the deb this stack built? A published version never changes, so one
 * this stack has no record of stops the release before the build, not after minutes of building.
 * Pure of Pulumi; RalphRelease runs it through the CLI (`deb check`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
import { debFilename, findPackage, sha256OfFile } from "./packagecloud";

export class PublishedDebError extends UserError {}

export interface PublishedDebRequest {
  readonly packageName: string;
  /** The Debian version. */
  readonly version: string;
  readonly architecture: string;
  readonly distro: string;
  readonly release: string;
  /** When packagecloud is a target: its API base and `<user>/<repo>`. */
  readonly packagecloud?: { readonly url: string; readonly repository: string };
  /** When aptly is a target: its root (the published tree under `public/` is what clients see). */
  readonly aptly?: { readonly rootDir: string };
  /** Where this version's deb is kept on this machine once built (a release's is never overwritten). */
  readonly localDebPath: string;
}

export interface PublishedDebFacts {
  readonly packagecloudToken?: string;
  /** The `debSha256` this stack exported after its last update. */
  readonly recordedSha256?: string;
}

/** The sha256 an apt `Packages` file gives `name` at `version`, if it lists it. */
export function indexedSha256(packagesFile: string, name: string, version: string): string | undefined {
  for (const stanza of packagesFile.split(/\n\s*\n/)) {
    if (/^Package:\s*(\S+)/m.exec(stanza)?.[1] !== name) continue;
    if (/^Version:\s*(\S+)/m.exec(stanza)?.[1] !== version) continue;
    return /^SHA256:\s*(\S+)/m.exec(stanza)?.[1];
  }
  return undefined;
}

/** The package in an aptly publication (`<rootDir>/public/<prefix>/dists/<release>`). */
export interface AptlyIndexedPackage {
  readonly rootDir: string;
  readonly prefix: string;
  readonly release: string;
  readonly packageName: string;
  readonly version: string;
  readonly architecture: string;
}

/** The sha256 the publication's `Packages` index gives the package; undefined when it does not list it. */
export function aptlyIndexedSha256(p: AptlyIndexedPackage): string | undefined {
  const packages = join(
    p.rootDir,
    "public",
    p.prefix,
    "dists",
    p.release,
    "main",
    `binary-${p.architecture}`,
    "Packages",
  );
  if (!existsSync(packages)) return undefined;
  return indexedSha256(readFileSync(packages, "utf8"), p.packageName, p.version);
}

async function publishedOnAptly(request: PublishedDebRequest, rootDir: string): Promise<string | undefined> {
  // A release is published under its distro's prefix (aptlyPublicationFor).
  return aptlyIndexedSha256({ ...request, rootDir, prefix: request.distro });
}

/**
 * What each target holds for this version (`target → sha256`), refusing, all at once, any that does
 * not match this stack's record: its last `debSha256`, else the deb it keeps on this machine.
 */
export async function checkPublishedDeb(
  request: PublishedDebRequest,
  facts: PublishedDebFacts,
): Promise<Record<string, string>> {
  const published: [string, string | undefined][] = [];
  if (request.packagecloud) {
    const { url, repository } = request.packagecloud;
    const found = await findPackage({ url, token: facts.packagecloudToken ?? "" }, { ...request, repository });
    published.push([`packagecloud ${repository}/${request.distro}/${request.release}`, found?.sha256]);
  }
  if (request.aptly) {
    const where = `aptly ${request.aptly.rootDir}/public/${request.distro} (${request.release})`;
    published.push([where, await publishedOnAptly(request, request.aptly.rootDir)]);
  }
  const present = published.filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (present.length === 0) return {};
  const recorded =
    facts.recordedSha256 || (existsSync(request.localDebPath) ? await sha256OfFile(request.localDebPath) : undefined);
  const whose = recorded
    ? `this stack's deb is ${recorded}`
    : `this stack has no record of building it (no earlier update, no ${request.localDebPath})`;
  const refusals = present
    .filter(([, sha256]) => sha256 !== recorded)
    .map(
      ([where, sha256]) =>
        `${debFilename(request)} is already published on ${where} with sha256 ${sha256}, and ${whose}.`,
    );
  if (refusals.length > 0) {
    throw new PublishedDebError(
      `${refusals.join("\n")}\n` +
        "  A published version never changes, and nothing was built.\n" +
        "  fix: release a new patch version (npm run release-new-version), or, if the published deb is this " +
        "release's, restore this stack's state (pulumi stack import) or put that deb at " +
        request.localDebPath,
    );
  }
  return Object.fromEntries(present);
}
