import * as pulumi from "@pulumi/pulumi";
import type { AptlyPublication, AptlyPublishRequest } from "../lib/publish/aptly";
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
  /** This project's directory (the CLI the command runs). */
  readonly projectDir: string;
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
    const request = pulumi.all([args.debPath, args.sha256]).apply(([debPath, sha256]) =>
      JSON.stringify({
        rootDir: args.rootDir,
        repository: args.repository,
        distro: args.distro,
        release: args.release,
        prefix: args.prefix,
        debPath,
        sha256,
        gpgKey: args.gpgKey,
      } satisfies AptlyPublishRequest),
    );
    const publish = new PipelineStep(
      `${name}-publish`,
      {
        create: "npm run --silent cli -- apt aptly",
        dir: args.projectDir,
        environment: { RALPH_APTLY_PUBLISH: request },
        triggers: [args.sha256],
      },
      { parent: this },
    );
    this.publication = publish.stdout.apply((stdout) => JSON.parse(stdout) as AptlyPublication);
    this.registerOutputs({ publication: this.publication });
  }
}
