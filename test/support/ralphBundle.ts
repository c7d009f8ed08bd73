/**
 * Ralph's real repository (../shared/ralph/ralph.bundle beside this project: `ng` through release
 * 20241023.1, all release tags), cloned into a temp directory as a maintainer would clone Ralph.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_DIR } from "./containers";
import { GitRepo, tempDir } from "./gitRepo";

export const RALPH_BUNDLE = process.env.RALPH_BUNDLE ?? join(PROJECT_DIR, "..", "shared", "ralph", "ralph.bundle");
/** The release at the bundle's `ng`. */
export const BUNDLE_RELEASE = "20241023.1";

/** What builds the bundle's release on debian/bullseye (README, "The ralph-core deb"). */
export const BUNDLE_ON_BULLSEYE = {
  distribution: "debian/bullseye",
  baseImage: process.env.RALPH_RELEASE_BULLSEYE_IMAGE ?? "localhost/debian:bullseye",
  pythonMinimum: "3.9",
  // Pillow 6.2.2 has no wheel for Python 3.9: built from source, linked against these.
  extraBuildDepends: ["zlib1g-dev", "libjpeg-dev"],
  extraDepends: ["libjpeg62-turbo", "zlib1g"],
  // Its pins conflict (pbr==1.8.1 vs openstacksdk 1.5.0); Ralph's own build used pip 19.3.1's resolver.
  pipArgs: ["--use-deprecated=legacy-resolver"],
};

export function cloneRalph(): GitRepo {
  if (!existsSync(RALPH_BUNDLE)) {
    throw new Error(
      `${RALPH_BUNDLE} is missing: Ralph's real repository, shared/ralph/ralph.bundle beside this project (or RALPH_BUNDLE=<path>).`,
    );
  }
  const repo = new GitRepo(join(tempDir("ralph-real-"), "ralph"));
  execFileSync("git", ["clone", "--quiet", RALPH_BUNDLE, repo.dir]);
  return repo;
}
