import * as pulumi from "@pulumi/pulumi";
import {
  type DebCoordinates,
  debFilename,
  findPackage,
  type PackagecloudConnection,
  packagecloudError,
  publishDeb,
  type RetryPolicy,
  yankDeb,
} from "../lib/publish/packagecloud";

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

interface ProviderInputs {
  url: string;
  repository: string;
  distro: string;
  release: string;
  packageName: string;
  version: string;
  architecture: string;
  debPath: string;
  projectDir: string;
  sha256: string;
  token: string;
  yankOnDelete: boolean;
  retry?: Partial<RetryPolicy>;
}

interface ProviderOutputs extends ProviderInputs {
  filename: string;
  packageUrl: string;
  /** Whether this stack found the package already there and took it over. */
  adopted: boolean;
  /** Set by a refresh that found a release's package yanked: the next `up` refuses to send it again. */
  yanked?: boolean;
}

/** Inputs that name a different package: a change means a new package, never an edit. */
const IDENTITY = ["url", "repository", "distro", "release", "packageName", "version", "architecture"] as const;

function connection(inputs: ProviderInputs): PackagecloudConnection {
  return {
    url: inputs.url,
    token: inputs.token,
    retry: inputs.retry,
    // The provider's stderr reaches `pulumi up`'s diagnostics.
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

function coordinates(inputs: ProviderInputs): DebCoordinates {
  return {
    repository: inputs.repository,
    distro: inputs.distro,
    release: inputs.release,
    packageName: inputs.packageName,
    version: inputs.version,
    architecture: inputs.architecture,
  };
}

/**
 * create = upload (or adopt the same file already there); read = show; delete = yank, only when
 * `yankOnDelete`. The file of a published version cannot change: a different one is an update, which
 * refuses it (so a preview, and a refresh that read a file replaced by hand, show it instead of failing).
 */
export const packagecloudProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ProviderOutputs, news: ProviderInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = IDENTITY.filter((key) => olds[key] !== news[key]);
    // Drift shows as an update (a preview, `refresh --preview-only`, still runs); the update refuses it.
    if (olds.yanked && replaces.length === 0) return { changes: true, replaces: [], deleteBeforeReplace: false };
    const changed =
      replaces.length > 0 ||
      olds.sha256 !== news.sha256 ||
      (["debPath", "token", "yankOnDelete"] as const).some((k) => olds[k] !== news[k]);
    return { changes: changed, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: ProviderInputs): Promise<pulumi.dynamic.CreateResult<ProviderOutputs>> {
    const debPath = inputs.debPath.replace(/^\{project\}(?=\/)/, inputs.projectDir);
    const published = await publishDeb(connection(inputs), coordinates(inputs), debPath, inputs.sha256);
    return {
      id: `${inputs.repository}/${inputs.distro}/${inputs.release}/${published.filename}`,
      outs: { ...inputs, filename: published.filename, packageUrl: published.packageUrl, adopted: published.adopted },
    };
  },

  async read(id: string, props: ProviderOutputs): Promise<pulumi.dynamic.ReadResult<ProviderOutputs>> {
    const found = await findPackage(connection(props), coordinates(props));
    // A snapshot's package yanked by hand is gone (an empty id): refresh drops it, the next up
    // publishes it again. A release's is drift: recorded, and refused by the next up.
    if (!found) return props.yankOnDelete ? {} : { id, props: { ...props, yanked: true } };
    // No undefined values: the engine's wire format has none.
    const { yanked: _wasYanked, ...published } = props;
    return { id, props: { ...published, sha256: found.sha256, packageUrl: found.packageUrl } };
  },

  async update(
    _id: string,
    olds: ProviderOutputs,
    news: ProviderInputs,
  ): Promise<pulumi.dynamic.UpdateResult<ProviderOutputs>> {
    if (olds.yanked) {
      throw packagecloudError(
        `${debFilename(news)} was yanked from ${news.repository}/${news.distro}/${news.release} after this stack ` +
          "published it; a release's package is not sent again behind its maintainers' back. Fix: to leave it " +
          "yanked, release a new version; to publish it again, forget it here (pulumi state delete the " +
          "ralph-core-packagecloud resource: pulumi stack --show-urns names it) and run up.",
      );
    }
    if (olds.sha256 !== news.sha256) {
      // Another build of the version, or a file replaced on packagecloud by hand (a refresh read it).
      throw packagecloudError(
        `${debFilename(news)} is published in ${news.repository}/${news.distro}/${news.release} with sha256 ` +
          `${olds.sha256}; this build is ${news.sha256}. A published version never changes. Fix: release a new ` +
          "version (a new tag, or a new commit for a snapshot).",
      );
    }
    // Only the token, the local path or the delete policy changed: nothing to do on packagecloud.
    return { outs: { ...olds, ...news } };
  },

  async delete(_id: string, props: ProviderOutputs): Promise<void> {
    if (props.yankOnDelete) await yankDeb(connection(props), coordinates(props));
  },
};

/**
 * ralph-core's .deb on packagecloud. Declare release packages with `retainOnDelete` (RalphRelease does):
 * `pulumi destroy` then forgets them instead of yanking.
 */
export class PackagecloudPackage extends pulumi.dynamic.Resource {
  declare readonly filename: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;
  declare readonly packageUrl: pulumi.Output<string>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: PackagecloudPackageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      packagecloudProvider,
      name,
      { ...args, filename: undefined, packageUrl: undefined, adopted: undefined },
      { ...opts, additionalSecretOutputs: ["token"] },
      "packagecloud",
      "PackagecloudPackage",
    );
  }
}
