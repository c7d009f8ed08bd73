/**
 * `release-new-version`: tags the next release on the main branch, as Ralph's Makefile target did,
 * and tells the maintainer what to push. The tag is what the release stack publishes.
 */
import { changesSince } from "./changelog";
import { gitWithInput } from "./git";
import { listFiles, showVersion, type VersionOptions, VersionError } from "./version";

export interface NewVersionRequest extends VersionOptions {
  /** GPG-sign the tag: true for git's default key, a key id for that key. */
  readonly sign?: boolean | string;
  /** Remote the maintainer pushes to (for the instructions). */
  readonly remote?: string;
}

export interface NewVersion {
  readonly tag: string;
  readonly commit: string;
  readonly signed: boolean;
  /** What to run next, in order. */
  readonly next: readonly string[];
}

export function tagNewVersion(request: NewVersionRequest): NewVersion {
  const { source } = request;
  const mainBranch = request.mainBranch ?? "ng";
  const checkout = showVersion(request);
  const refuse = (why: string) => {
    throw new VersionError(`release-new-version refuses: ${why}`);
  };
  if (checkout.branch !== mainBranch) {
    refuse(
      `HEAD is ${checkout.branch ? `on branch ${checkout.branch}` : "detached"}; release tags go on '${mainBranch}'. ` +
        `Run \`git checkout ${mainBranch} && git pull\` first (or pass --main-branch).`,
    );
  }
  if (checkout.dirtyFiles.length > 0) {
    refuse(
      `the working tree has uncommitted changes (${listFiles(checkout.dirtyFiles)}); ` +
        "a tag would not describe what is built. Commit or stash them.",
    );
  }
  if (checkout.tagAtHead !== undefined) {
    refuse(
      `HEAD ${checkout.commit.slice(0, 12)} is already released as ${checkout.tagAtHead}; commit something new first.`,
    );
  }
  // Untagged and on the main branch, the checkout is a snapshot of the next release: that is the tag.
  const tag = checkout.next;
  const { previous, subjects } = changesSince(source, checkout.commit);
  const message = [
    `Release ${tag}`,
    "",
    ...(previous ? [`Changes since ${previous}:`] : []),
    ...subjects.map((s) => `- ${s}`),
  ].join("\n");
  const signed = request.sign !== undefined && request.sign !== false;
  const signing = !signed
    ? ["--annotate"]
    : typeof request.sign === "string"
      ? ["--local-user", request.sign]
      : ["--sign"];
  try {
    // The message goes through stdin: subjects may hold anything, and nothing passes through a shell.
    gitWithInput(source, message, "tag", ...signing, "--file=-", tag, checkout.commit);
  } catch (error) {
    throw new VersionError(
      `git could not create tag ${tag}${signed ? " (signed)" : ""}: ${(error as Error).message}` +
        (signed ? " Check `gpg --list-secret-keys` and git's user.signingkey." : ""),
    );
  }
  const remote = request.remote ?? "origin";
  return {
    tag,
    commit: checkout.commit,
    signed,
    next: [
      `git -C ${request.source} push ${remote} ${tag}`,
      `then publish: create the GitHub release of ${tag} (the publish workflow runs the release stack), or run \`npm run release -- release up --yes\` from a checkout of ${tag}`,
    ],
  };
}
