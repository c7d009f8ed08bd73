/** What parsing the configuration produces, and how it fails. Pure. */
import { UserError } from "../errors";
import type { Mode } from "../version/version";
import type { DebTarget, SecretKey } from "./keys";

/** One thing wrong with the configuration: which key, what, and the fix. */
export interface ConfigProblem {
  readonly key: string;
  readonly problem: string;
  readonly fix: string;
}

export class ConfigError extends UserError {
  constructor(
    readonly problems: readonly ConfigProblem[],
    stack: string,
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Configuration of stack '${stack}' has ${count}; nothing was built or published:\n` +
        problems.map((p) => `  - ${p.key}: ${p.problem}.\n    Fix: ${p.fix}`).join("\n"),
    );
  }
}

/** One part of the build's target and where it came from. */
export interface TargetOrigin {
  readonly value: string;
  /** A file of the checkout (`debian/changelog`), `config`, or `default` (`default: ubuntu/bionic's python3`). */
  readonly from: string;
}

export interface Settings {
  readonly mode: Mode;
  /** Absolute path of the Ralph checkout. */
  readonly source: string;
  readonly mainBranch: string;
  readonly distribution: { readonly distro: string; readonly release: string; readonly name: string };
  /** Where the build's target came from: the checkout's packaging, the stack's config, or the defaults. */
  readonly target: {
    readonly distribution: TargetOrigin;
    readonly python: TargetOrigin;
    /** Empty value: the venv's own pip. */
    readonly pip: TargetOrigin;
    /** A minimum, or `archive` (the distribution's own); it matters only for a tree with a front end. */
    readonly node: TargetOrigin;
  };
  readonly images: {
    /** Whether the images are built at all (false: a deb-only stack). */
    readonly build: boolean;
    readonly registry: string;
    readonly namespace: string;
    readonly username?: string;
    readonly nginxImage: string;
    /** inkpy's build context and Dockerfile (absolute); undefined when it is left out. */
    readonly inkpy?: { readonly context: string; readonly dockerfile: string };
  };
  readonly packagecloud: {
    readonly repository: string;
    readonly url: string;
    /** Fingerprint of the repository's signing key: what a release image trusts. */
    readonly gpgKey?: string;
  };
  readonly github: {
    readonly repository: string;
    /** REST API base (githubApiUrl). */
    readonly apiUrl: string;
    /** A release made by hand for this tag, to adopt. */
    readonly releaseId?: string;
    /** Environment for the publish workflow; undefined when managed by hand. */
    readonly environment?: string;
    readonly ciBackendUrl?: string;
  };
  readonly publish: {
    /** In order: release images install from the first. */
    readonly debTargets: readonly DebTarget[];
    /** Push the images (never when they are not built). */
    readonly images: boolean;
    readonly githubRelease: boolean;
  };
  readonly aptly: {
    /** Absolute. */
    readonly root: string;
    readonly url?: string;
    readonly gpgKey?: string;
  };
  /** Sigstore's services for keyless signing (the key, when there is one, is a secret). */
  readonly sigstore: { readonly fulcioUrl: string; readonly rekorUrl: string };
  /**
   * Who signs: SHA256SUMS with `gpgSigningKey` (key), `aptlyGpgKey` (keyring) or a throw-away key;
   * the Sigstore bundles keyless (the CI's identity), with `signingKey` (key) or a throw-away key.
   * A release never signs with a throw-away key.
   */
  readonly signing: {
    readonly checksums: "key" | "keyring" | "throw-away";
    readonly bundles: "keyless" | "key" | "throw-away";
  };
  /** What the stack leaves out and why (shown by `up` and the plan). */
  readonly notices: readonly string[];
  /** Deadline of the wait for the apt index, in seconds. */
  readonly indexWaitSeconds: number;
  readonly deb: {
    readonly builder: "container" | "host";
    readonly baseImage: string;
    readonly pythonMinimum: string;
    readonly nodeMinimum: string;
    /** dh-virtualenv's `--upgrade-pip-to`; undefined: the venv's own pip. */
    readonly pipVersion?: string;
    /** Where the builder gets nodejs besides the distribution's archive; the key file is absolute. */
    readonly nodeAptSource?: { readonly source: string; readonly keyFile: string };
    readonly pipArgs: readonly string[];
    readonly extraBuildDepends: readonly string[];
    readonly extraDepends: readonly string[];
    /** Absolute; undefined: the builder builds the front end. */
    readonly frontendAssets?: string;
  };
}

/** Secret values, kept apart from Settings so that only the Pulumi side ever holds them (as secrets). */
export type SecretValues = { readonly [K in SecretKey]?: string };

export interface RawConfig {
  readonly stack: string;
  /** Directory relative paths are resolved against (the Pulumi project). */
  readonly projectDir: string;
  /** Every config value of the stack, keyed `<namespace>:<key>` as Pulumi passes them. */
  readonly values: Readonly<Record<string, string>>;
  /** Full keys Pulumi holds as secrets. */
  readonly secretKeys: ReadonlySet<string>;
  /** Whether an OIDC identity is at hand to sign keyless (GitHub Actions' `id-token: write`, SIGSTORE_ID_TOKEN). */
  readonly ciIdentity?: boolean;
  /** Whether the run only previews (nothing is signed, so no signer need be at hand). */
  readonly previewOnly?: boolean;
}
