/** Names and tags of Ralph's images. Pure. */
import type { Settings } from "../config";
import { SNAPSHOT_PREFIX } from "../publish/aptly";
import type { Mode } from "../version/version";

export const IMAGE_NAMES = ["ralph", "ralph-static-nginx", "inkpy"] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/**
 * Tags for a build: the version always; `latest` only for a release, so a snapshot can never move
 * what users pull by default.
 */
export function imageTags(mode: Mode, version: string): string[] {
  return mode === "release" ? [version, "latest"] : [version];
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
