import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { releaseImportId, splitRepository } from "../lib/github/release";

export interface GithubReleaseArgs {
  /** `owner/repo` that gets the release. */
  readonly repository: string;
  /** The release tag (Ralph's version); it already exists in the repository. */
  readonly tag: string;
  /** Full id of the tagged commit. */
  readonly commit: string;
  /** The release's text: changelog entry and artifacts (lib/github/release.ts renderReleaseNotes). */
  readonly notes: pulumi.Input<string>;
  /** Id of a release made by hand for this tag: adopted, keeping its title and text. */
  readonly adoptReleaseId?: string;
  /** What must be published before the release is announced. */
  readonly after: pulumi.Resource[];
  /** GitHub provider for the repository's owner, with the token. */
  readonly provider: github.Provider;
}

/**
 * The GitHub release of a tag: the last step, once everything it announces is published. Retained
 * on destroy: a release is history, not infrastructure.
 */
export class GithubRelease extends pulumi.ComponentResource {
  /** The release page. */
  readonly url: pulumi.Output<string>;
  /** GitHub's id of the release. */
  readonly releaseId: pulumi.Output<number>;

  constructor(name: string, args: GithubReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:github:GithubRelease", name, {}, opts);
    const adopting = args.adoptReleaseId !== undefined;
    const release = new github.Release(
      name,
      {
        repository: splitRepository(args.repository).name,
        tagName: args.tag,
        targetCommitish: args.commit,
        name: `Ralph ${args.tag}`,
        body: args.notes,
        draft: false,
        prerelease: false,
      },
      {
        parent: this,
        provider: args.provider,
        dependsOn: args.after,
        retainOnDelete: true,
        // A maintainer's own title and text win over the generated ones; the tag never moves.
        ignoreChanges: adopting ? ["name", "body", "targetCommitish"] : ["targetCommitish"],
        import: adopting ? releaseImportId(args.repository, args.adoptReleaseId as string) : undefined,
      },
    );
    this.url = release.htmlUrl;
    this.releaseId = release.releaseId;
    this.registerOutputs({ url: this.url, releaseId: this.releaseId });
  }
}
