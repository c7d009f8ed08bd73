/** Names and tags of Ralph's images. Pure. */
import type { Mode } from "./version";

export const IMAGE_NAMES = ["ralph", "ralph-static-nginx", "inkpy"] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/**
 * Tags for a build: the version always; `latest` only for a release, so a snapshot can never move
 * what users pull by default.
 */
export function imageTags(mode: Mode, version: string): string[] {
  return mode === "release" ? [version, "latest"] : [version];
}

/** `<registry>/<namespace>/<name>`, the repository an image is pushed to. */
export function imageRepository(registry: string, namespace: string, name: ImageName): string {
  return `${registry}/${namespace}/${name}`;
}
