import * as pulumi from "./sdk";
import type { AptlyPublication, AptlyPublishRequest } from "../lib/publish/aptly";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";

export interface AptlyRepositoryArgs {
  /** aptly's root directory (absolute). */
  readonly rootDir: string;
  /** Name of the aptly local repository (aptlyPublicationFor: each mode its own). */
  readonly repository: string;
  readonly distro: string;
  readonly release: string;
  /** Publish prefix (aptlyPublicationFor): `<distro>` for a release, `snapshots/<distro>` for a snapshot. */
  readonly prefix: string;
  /** The verified deb and its sha256: the publish waits for the gate and re-runs when the file changes. */
  readonly debPath: pulumi.Input<string>;
  readonly sha256: pulumi.Input<string>;
  /** GPG key id to sign with; unsigned when absent. */
  readonly gpgKey?: string;
  /** Where this run's project is (never compared). */
  readonly roots: MachineRoots;
}

/**
 * ralph-core in a self-hosted aptly repository, published under `<rootDir>/public/<prefix>/`.
 * Deleting the resource leaves the repository as it is: published packages are never removed by
 * `pulumi destroy`.
 */
export class AptlyRepository extends pulumi.ComponentResource {
  /** What was published: the directory to serve, prefix, whether signed. */
  readonly publication: pulumi.Output<AptlyPublication>;

  constructor(name: string, args: AptlyRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:publish:AptlyRepository", name, {}, opts);
    const request = pulumi.all([args.debPath, args.sha256]).apply(([debPath, sha256]): AptlyPublishRequest => ({
      rootDir: args.rootDir,
      repository: args.repository,
      distro: args.distro,
      release: args.release,
      prefix: args.prefix,
      debPath,
      sha256,
      gpgKey: args.gpgKey,
    }));
    const publish = new PipelineStep(
      `${name}-publish`,
      {
        kind: STEP_KINDS.aptlyPublish,
        request,
        triggers: { debSha256: args.sha256 },
        roots: args.roots,
      },
      { parent: this },
    );
    this.publication = publish.result<AptlyPublication>();
    this.registerOutputs({ publication: this.publication });
  }
}
