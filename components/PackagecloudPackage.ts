import * as pulumi from "./sdk";
import { DynamicResource } from "./DynamicResource";
import type { RetryPolicy } from "../lib/publish/packagecloud";

export interface PackagecloudPackageArgs {
  /** packagecloud API base, like https://packagecloud.io. */
  readonly url: pulumi.Input<string>;
  /** `<user>/<repo>`. */
  readonly repository: pulumi.Input<string>;
  readonly distro: pulumi.Input<string>;
  readonly release: pulumi.Input<string>;
  readonly packageName: pulumi.Input<string>;
  /** The deb's version (Debian form). */
  readonly version: pulumi.Input<string>;
  readonly architecture: pulumi.Input<string>;
  /** The verified .deb, named from the project directory (`{project}/build/…`). */
  readonly debPath: pulumi.Input<string>;
  /** This run's project directory, where `{project}` is: never compared. */
  readonly projectDir: string;
  /** Its sha256, as verified: the upload is refused if the file no longer matches. */
  readonly sha256: pulumi.Input<string>;
  /** API token; pass a secret. Kept secret in state. */
  readonly token: pulumi.Input<string>;
  /** Yank the package when the resource is deleted (snapshots). Releases keep it. */
  readonly yankOnDelete: pulumi.Input<boolean>;
  /** Retry limits (tests shorten them). */
  readonly retry?: pulumi.Input<Partial<RetryPolicy>>;
}

/**
 * ralph-core's .deb on packagecloud. Declare release packages with `retainOnDelete` (RalphRelease does):
 * `pulumi destroy` then forgets them instead of yanking.
 */
export class PackagecloudPackage extends DynamicResource {
  declare readonly filename: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;
  declare readonly packageUrl: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: PackagecloudPackageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      { path: "lib/publish/packagecloudProvider.ts", exportName: "packagecloudProvider" },
      name,
      { ...args, filename: undefined, packageUrl: undefined, adopted: undefined },
      { ...opts, additionalSecretOutputs: ["token"] },
      "packagecloud",
      "PackagecloudPackage",
    );
  }
}
