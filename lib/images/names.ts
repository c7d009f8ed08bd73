/** Names and tags of Ralph's images. Pure. */
import type { Settings } from "../config";
import { SNAPSHOT_PREFIX } from "../publish/aptly";
import { compareReleases, type Mode, parseReleaseTag } from "../version/version";

export const IMAGE_NAMES = ["ralph", "ralph-static-nginx", "inkpy"] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/**
 * Tags for a build: the version; `latest` only for a release, so a snapshot can never move what
 * users pull by default, and only for the newest release on the main branch, so a patch of an older
 * one never moves it back (the push asks the registry the same of what `latest` is now). A snapshot
 * of a tagged commit is `<version>-SNAPSHOT`: the release's own tag is the release stack's alone, so
 * a snapshot can neither replace nor pre-empt it.
 */
export function imageTags(mode: Mode, version: string, newestOnMain?: string): string[] {
  if (mode === "snapshot") return [parseReleaseTag(version) ? `${version}-SNAPSHOT` : version];
  return latestStaysFor(version, newestOnMain) === undefined ? [version, "latest"] : [version];
}

/** Why a release leaves `latest` alone: a newer release on the main branch; undefined when it moves it. */
export function latestStaysFor(version: string, newestOnMain: string | undefined): string | undefined {
  return isNewerRelease(newestOnMain, version)
    ? `latest stays: ${newestOnMain} on the main branch is newer than ${version}, so only the version tags are pushed`
    : undefined;
}

/** Whether `candidate` is a release version newer than the release `than`. */
export function isNewerRelease(candidate: string | undefined, than: string): boolean {
  const theirs = candidate === undefined ? undefined : parseReleaseTag(candidate);
  const ours = parseReleaseTag(than);
  return theirs !== undefined && ours !== undefined && compareReleases(theirs, ours) > 0;
}

/** The images a stack builds: none on a deb-only stack, inkpy only with its checkout. */
export function builtImages(settings: Settings): ImageName[] {
  if (!settings.images.build) return [];
  return IMAGE_NAMES.filter((image) => image !== "inkpy" || settings.images.inkpy !== undefined);
}

/** `<registry>/<namespace>/<name>`, the repository an image is pushed to. */
export function imageRepository(registry: string, namespace: string, name: ImageName): string {
  return `${registry}/${namespace}/${name}`;
}

/** The apt repository a release ralph image installs ralph-core from: the first deb target. */
export interface AptSource {
  /** Base of the source line: `deb <baseUrl>/ <release> main`. */
  readonly baseUrl: string;
  /** The repository's armored signing key. */
  readonly keyUrl: string;
}

export function releaseAptSource(settings: Settings): AptSource | undefined {
  const { distro } = settings.distribution;
  switch (settings.publish.debTargets[0]) {
    case "packagecloud": {
      const repo = `${settings.packagecloud.url}/${settings.packagecloud.repository}`;
      return { baseUrl: `${repo}/${distro}`, keyUrl: `${repo}/gpgkey` };
    }
    case "aptly": {
      const url = (settings.aptly.url ?? "").replace(/\/$/, "");
      return { baseUrl: `${url}/${distro}`, keyUrl: `${url}/gpgkey` };
    }
    default:
      return undefined;
  }
}

/**
 * Where each deb target publishes, in target order: repository URLs, or aptly's public directory (for
 * a snapshot its `snapshots/` part: aptlyPublicationFor).
 */
export function debLocations(settings: Settings): string[] {
  const aptly = settings.aptly.url?.replace(/\/$/, "") ?? `${settings.aptly.root}/public`;
  return settings.publish.debTargets.map((target) =>
    target === "packagecloud"
      ? `${settings.packagecloud.url}/${settings.packagecloud.repository}`
      : settings.mode === "snapshot"
        ? `${aptly}/${SNAPSHOT_PREFIX}`
        : aptly,
  );
}
