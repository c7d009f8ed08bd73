import * as pulumi from "./sdk";
import type { GithubReleaseRequest, GithubReleaseResult } from "../lib/github/releaseClient";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";

export interface GithubReleaseArgs {
  /** GitHub's REST API base (githubApiUrl). */
  readonly apiUrl: string;
  /** `owner/repo` that gets the release. */
  readonly repository: string;
  /** The release tag (Ralph's version); it already exists in the repository. */
  readonly tag: string;
  /** Full id of the tagged commit. */
  readonly commit: string;
  /** This pipeline's section of the release text: changelog entry, artifacts, how to verify. */
  readonly notes: pulumi.Input<string>;
  /** `build/<version>/` and the files of it that become the release's assets. */
  readonly artifactDir: pulumi.Input<string>;
  readonly assets: pulumi.Input<string[]>;
  /** The deb's file name among them. */
  readonly debFile: pulumi.Input<string>;
  /** Id of a release made by hand for this tag (githubReleaseId); else it is found by its tag. */
  readonly releaseId?: string;
  /** The token; a secret, never compared. */
  readonly token: pulumi.Input<string>;
  /** What must be published before the release is announced. */
  readonly after: pulumi.Resource[];
  readonly roots: MachineRoots;
}

/**
 * The GitHub release of a tag, the last step: drafted (or a maintainer's adopted, title and text
 * kept), every supply-chain file uploaded as an asset once, published when all are there. A step of
 * the pipeline's own (GitHub's REST API through @octokit/rest): no provider plugin. Its delete
 * leaves the release alone: a release is history, not infrastructure.
 */
export class GithubRelease extends pulumi.ComponentResource {
  /** The release page. */
  readonly url: pulumi.Output<string>;
  /** GitHub's id of the release. */
  readonly releaseId: pulumi.Output<number>;
  /** name → sha256 of each asset. */
  readonly assets: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: GithubReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:github:GithubRelease", name, {}, opts);
    const request = pulumi
      .all([args.notes, args.artifactDir, args.assets, args.debFile])
      .apply(([notes, artifactDir, files, debFile]): GithubReleaseRequest => ({
        apiUrl: args.apiUrl,
        repository: args.repository,
        tag: args.tag,
        commit: args.commit,
        title: `Ralph ${args.tag}`,
        notes,
        artifactDir,
        files,
        debFile,
        ...(args.releaseId ? { releaseId: Number(args.releaseId) } : {}),
      }));
    const step = new PipelineStep(
      `${name}-publish`,
      {
        kind: STEP_KINDS.githubRelease,
        request,
        roots: args.roots,
        // No triggers: a changed text or file set is an update, which sees what it published before.
        runtimeEnvironment: { RALPH_GITHUB_TOKEN: args.token },
      },
      { parent: this, dependsOn: args.after },
    );
    const result = step.result<GithubReleaseResult>();
    this.url = result.url;
    this.releaseId = result.releaseId;
    this.assets = result.assets as pulumi.Output<Record<string, string>>;
    this.registerOutputs({ url: this.url, releaseId: this.releaseId, assets: this.assets });
  }
}
