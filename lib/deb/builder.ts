/**
 * The deb builder image's build arguments (docker/deb-builder/Dockerfile): the base image, the
 * Build-Depends it satisfies, and an extra apt source for nodejs with the key it is signed with.
 * One function, so that the component and the tests build the same image. Pure but for reading the key.
 */
import { readFileSync } from "node:fs";

export interface BuilderRecipe {
  readonly baseImage: string;
  /** The rendered control file's Build-Depends (what the builder's `apt-get build-dep` installs). */
  readonly buildDepends: string;
  readonly nodeAptSource?: { readonly source: string; readonly keyFile: string };
}

export function builderBuildArgs(recipe: BuilderRecipe): Record<string, string> {
  const args: Record<string, string> = { BASE_IMAGE: recipe.baseImage, BUILD_DEPENDS: recipe.buildDepends };
  if (recipe.nodeAptSource) {
    const key = readFileSync(recipe.nodeAptSource.keyFile);
    // apt reads a key in signed-by by its extension: .asc armored, .gpg binary.
    const armored = key.subarray(0, 64).toString("latin1").includes("-----BEGIN PGP PUBLIC KEY BLOCK-----");
    args.NODE_APT_SOURCE = recipe.nodeAptSource.source;
    args.NODE_APT_KEY = key.toString("base64");
    args.NODE_APT_KEY_FILE = `/etc/apt/keyrings/ralph-release-nodejs.${armored ? "asc" : "gpg"}`;
  }
  return args;
}
