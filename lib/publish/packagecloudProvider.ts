/**
 * What serves ralph-core's package on packagecloud in the engine's Node.js dynamic provider: upload
 * or adopt, show, yank. Bundled into the resource's state with what it imports
 * (lib/steps/providerBundle), and run in the provider's own process.
 */
import type { CreateResult, DiffResult, ReadResult, UpdateResult } from "../steps/providerBundle";
import {
  type DebCoordinates,
  debFilename,
  findPackage,
  type PackagecloudConnection,
  packagecloudError,
  publishDeb,
  type RetryPolicy,
  yankDeb,
} from "./packagecloud";

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
export const packagecloudProvider = {
  async diff(_id: string, olds: ProviderOutputs, news: ProviderInputs): Promise<DiffResult> {
    const replaces = IDENTITY.filter((key) => olds[key] !== news[key]);
    // Drift shows as an update (a preview, `refresh --preview-only`, still runs); the update refuses it.
    if (olds.yanked && replaces.length === 0) return { changes: true, replaces: [], deleteBeforeReplace: false };
    const changed =
      replaces.length > 0 ||
      olds.sha256 !== news.sha256 ||
      (["debPath", "token", "yankOnDelete"] as const).some((k) => olds[k] !== news[k]);
    return { changes: changed, replaces, deleteBeforeReplace: false };
  },

  async create(inputs: ProviderInputs): Promise<CreateResult<ProviderOutputs>> {
    const debPath = inputs.debPath.replace(/^\{project\}(?=\/)/, inputs.projectDir);
    const published = await publishDeb(connection(inputs), coordinates(inputs), debPath, inputs.sha256);
    return {
      id: `${inputs.repository}/${inputs.distro}/${inputs.release}/${published.filename}`,
      outs: { ...inputs, filename: published.filename, packageUrl: published.packageUrl, adopted: published.adopted },
    };
  },

  async read(id: string, props: ProviderOutputs): Promise<ReadResult<ProviderOutputs>> {
    const found = await findPackage(connection(props), coordinates(props));
    // A snapshot's package yanked by hand is gone (an empty id): refresh drops it, the next up
    // publishes it again. A release's is drift: recorded, and refused by the next up.
    if (!found) return props.yankOnDelete ? {} : { id, props: { ...props, yanked: true } };
    // No undefined values: the engine's wire format has none.
    const { yanked: _wasYanked, ...published } = props;
    return { id, props: { ...published, sha256: found.sha256, packageUrl: found.packageUrl } };
  },

  async update(_id: string, olds: ProviderOutputs, news: ProviderInputs): Promise<UpdateResult<ProviderOutputs>> {
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
