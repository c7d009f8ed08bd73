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
