/**
 * Every configuration key the program reads: type, default, documentation and the check of its
 * value, in one table. What a key means in combination with others is decided by the readers
 * (readers/), one per area of the pipeline. Pure.
 */
import { distributionProfile, SUPPORTED_DISTRIBUTIONS } from "../deb/distributions";
import type { Mode } from "../version/version";
import {
  checkHttpsUrl,
  dependencyListProblem,
  HOST_PORT,
  imageReferenceProblem,
  matches,
  pipArgsProblem,
  userinfoProblem,
} from "./checks";

export const PROJECT = "ralph-release";
export const MODES: readonly Mode[] = ["snapshot", "release"];
export const DEB_TARGETS = ["packagecloud", "aptly"] as const;
export type DebTarget = (typeof DEB_TARGETS)[number];

type Kind = "string" | "boolean" | "secret";

export interface KeySpec {
  readonly kind: Kind;
  readonly doc: string;
  /** Default per mode; undefined means optional (or required by a reader's rule). */
  readonly default?: Readonly<Record<Mode, string | boolean | undefined>>;
  /** Example value used in the fix of an error message. */
  readonly example: string;
  /** A problem with a present value, phrased to follow the key name; undefined when fine. */
  readonly check?: (value: string) => string | undefined;
}

const both = <T extends string | boolean>(value: T) => ({ snapshot: value, release: value });

/** The schema. README's configuration table is generated from it (table.ts); keep docs here. */
export const KEYS = {
  mode: {
    kind: "string",
    doc: "`snapshot` or `release`. Defaults to the stack name when that is one of the two.",
    example: "snapshot",
    check: (v) => (MODES.includes(v as Mode) ? undefined : `${JSON.stringify(v)} is not a mode`),
  },
  source: {
    kind: "string",
    doc: "Path to the Ralph git checkout to package, absolute or relative to this project.",
    default: both("../ralph"),
    example: "../ralph",
  },
  mainBranch: {
    kind: "string",
    doc: "Ralph's main branch; releases are tags reachable from it.",
    default: both("ng"),
    example: "ng",
    check: matches(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+(?<![./])$/, "a branch name"),
  },
  distribution: {
    kind: "string",
    doc: "Target distribution as `<distro>/<release>`, as packagecloud names it; base of builder and images. `auto`: what the checkout's newest debian/changelog entry names (Ralph up to 20241023.1: `ubuntu/bionic`), else `ubuntu/jammy`.",
    default: both("auto"),
    example: "ubuntu/jammy",
    check: (v) =>
      v === "auto" || distributionProfile(v)
        ? undefined
        : `${JSON.stringify(v)} is neither auto nor a supported distribution (${SUPPORTED_DISTRIBUTIONS.join(", ")})`,
  },
  builder: {
    kind: "string",
    doc: "Where the deb is built: `container` (a builder image of the distribution, via DOCKER_HOST) or `host` (this machine, which must have the build dependencies).",
    default: both("container"),
    example: "container",
    check: (v) => (v === "container" || v === "host" ? undefined : `${JSON.stringify(v)} is not container or host`),
  },
  baseImage: {
    kind: "string",
    doc: "Image of the target distribution: base of the builder, the clean install test and the images. Default: the distribution's official image (e.g. `ubuntu:jammy`). A release should pin it by digest (`ubuntu:jammy@sha256:…`: a tag can move); the provenance records it by digest either way.",
    example: "ubuntu:jammy",
    check: imageReferenceProblem,
  },
  pythonMinimum: {
    kind: "string",
    doc: "Lowest python3 the deb builds and runs with (control Build-Depends/Depends). Default: the checkout's (its debian/rules `--python`, or debian/control) when it targets this distribution, else the distribution's python3 (bionic 3.6, bullseye 3.9, jammy 3.10, bookworm 3.11, noble 3.12).",
    example: "3.10",
    check: matches(/^\d+\.\d+$/, "a Python version like 3.10"),
  },
  nodeMinimum: {
    kind: "string",
    doc: "Lowest nodejs for building Ralph's front end (used when the checkout has package.json and gulpfile.js). `archive`: the distribution's own nodejs, whatever its version. Default: what the checkout's debian/control asks when it targets this distribution (an unversioned nodejs: `archive`), else 22.0.0.",
    example: "22.0.0",
    check: (v) => (v === "archive" ? undefined : matches(/^\d+(\.\d+){0,2}$/, "a version like 22.0.0, or archive")(v)),
  },
  nodeAptSource: {
    kind: "string",
    doc: "An apt source the builder installs nodejs from, when the distribution's archive lacks `nodeMinimum`: `<url> <suite> <component>` (NodeSource: `https://deb.nodesource.com/node_22.x nodistro main`), signed with `nodeAptKey`.",
    example: "https://deb.nodesource.com/node_22.x nodistro main",
    check: (v) =>
      userinfoProblem(v) ?? matches(/^https?:\/\/\S+ [A-Za-z0-9._-]+ [A-Za-z0-9._-]+$/, "<url> <suite> <component>")(v),
  },
  nodeAptKey: {
    kind: "string",
    doc: "The OpenPGP key (armored or binary file) `nodeAptSource` is signed with, absolute or relative to this project (NodeSource's: `https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key`).",
    example: "keys/nodesource-repo.gpg.key",
  },
  nginxImage: {
    kind: "string",
    doc: "Base image of ralph-static-nginx (a distribution image works too: nginx is installed if missing). A release should pin it by digest (`nginx:stable@sha256:…`); the provenance records it by digest either way.",
    default: both("nginx:stable"),
    example: "nginx:stable",
    check: imageReferenceProblem,
  },
  inkpy: {
    kind: "boolean",
    doc: "Build the inkpy image from `inkpySource`. Without its recipe there, a snapshot leaves inkpy out and says so; a release stops, unless this is false.",
    default: both(true),
    example: "false",
  },
  inkpySource: {
    kind: "string",
    doc: "inkpy's checkout: its own project (`git clone https://github.com/allegro/inkpy`), not part of Ralph's tree. Absolute or relative to this project; it is the image's build context.",
    default: both("../inkpy"),
    example: "../inkpy",
  },
  inkpyDockerfile: {
    kind: "string",
    doc: "inkpy's Dockerfile, relative to `inkpySource` (or absolute).",
    default: both("Dockerfile"),
    example: "Dockerfile",
  },
  pipVersion: {
    kind: "string",
    doc: "The pip the venv is upgraded to before Ralph's requirements install (dh-virtualenv `--upgrade-pip-to`): Ralph's pins need pip 19.3.1's resolver up to 20241023.1. Default: what the checkout's debian/rules pins when it targets this distribution, else the venv's own pip.",
    example: "19.3.1",
    check: matches(/^\d+(\.\d+){0,2}$/, "a version like 19.3.1"),
  },
  pipArgs: {
    kind: "string",
    doc: "Extra pip arguments for the venv, space-separated (e.g. `--no-index --find-links=/wheels` offline).",
    default: both(""),
    example: "--no-index",
    check: pipArgsProblem,
  },
  extraBuildDepends: {
    kind: "string",
    doc: "Further Build-Depends, comma-separated: what Ralph's requirements need to build from source on this distribution (e.g. `zlib1g-dev, libjpeg-dev` for a Pillow pin without wheels for its Python).",
    default: both(""),
    example: "zlib1g-dev, libjpeg-dev",
    check: (v) => dependencyListProblem(v),
  },
  extraDepends: {
    kind: "string",
    doc: "Further Depends of ralph-core, comma-separated: libraries those builds link against (e.g. `libjpeg62-turbo`).",
    default: both(""),
    example: "libjpeg62-turbo",
    check: (v) => dependencyListProblem(v),
  },
  frontendAssets: {
    kind: "string",
    doc: "Directory of pre-built front-end assets, laid over the Ralph tree before the build (paths as gulp writes them, e.g. `src/ralph/static/…`); npm, bower and gulp are then skipped. For trees whose front end cannot be built on this machine (bower's git sources). Absolute or relative to this project.",
    example: "build/frontend",
  },
  registry: {
    kind: "string",
    doc: "Container registry server images are pushed to. Snapshot default is a local registry.",
    default: { snapshot: "localhost:5000", release: "docker.io" },
    example: "docker.io",
    check: matches(HOST_PORT, "a registry host[:port] (no scheme, lower case)"),
  },
  imageNamespace: {
    kind: "string",
    doc: "Repository namespace of the images (Ralph's old `DOCKER_REPO_NAME`).",
    default: both("allegro"),
    example: "allegro",
    check: matches(
      /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/,
      "a lower-case repository namespace",
    ),
  },
  registryUsername: {
    kind: "string",
    doc: "Registry login; needed with `publishImages` on a non-local registry.",
    example: "ralphbot",
  },
  registryPassword: {
    kind: "secret",
    doc: "Registry password or access token (secret).",
    example: "<registry token>",
  },
  packagecloudRepository: {
    kind: "string",
    doc: "packagecloud repository `<user>/<repo>` the deb is pushed to. A snapshot stack never pushes to the release stack's.",
    default: { snapshot: "allegro/ralph-snapshots", release: "allegro/ralph" },
    example: "allegro/ralph",
    check: matches(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "<user>/<repo>"),
  },
  packagecloudUrl: {
    kind: "string",
    doc: "packagecloud API base URL.",
    default: both("https://packagecloud.io"),
    example: "https://packagecloud.io",
    check: checkHttpsUrl,
  },
  packagecloudToken: {
    kind: "secret",
    doc: "packagecloud API token (secret); needed when `debTargets` has packagecloud.",
    example: "<token from packagecloud.io/api_token>",
  },
  packagecloudGpgKey: {
    kind: "string",
    doc: "Fingerprint of the packagecloud repository's signing key (`curl -fsSL <packagecloudUrl>/<repository>/gpgkey | gpg --show-keys`, checked against what packagecloud's site shows). A release whose ralph image installs from packagecloud needs it: the image trusts the downloaded key only when it has this fingerprint.",
    example: "0123456789ABCDEF0123456789ABCDEF01234567",
    check: matches(/^[0-9A-Fa-f]{40}$/, "a 40-digit OpenPGP fingerprint"),
  },
  githubRepository: {
    kind: "string",
    doc: "GitHub repository `<owner>/<repo>` that gets the release.",
    default: both("allegro/ralph"),
    example: "allegro/ralph",
    check: matches(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "<owner>/<repo>"),
  },
  githubToken: {
    kind: "secret",
    doc: "GitHub token (secret); needed with `githubRelease` or `githubEnvironment`. Environments and their secrets need a token with admin rights on the repository.",
    example: "<GitHub token>",
  },
  githubApiUrl: {
    kind: "string",
    doc: "GitHub's REST API: https://api.github.com, or a GitHub Enterprise Server's https://<host>/api/v3. Assets go to the uploads host the release names, only on GitHub's own or the API's host.",
    default: both("https://api.github.com"),
    example: "https://api.github.com",
    check: checkHttpsUrl,
  },
  githubReleaseId: {
    kind: "string",
    doc: "Id of a GitHub release already made for this tag (by hand; the publish workflow passes it): the stack adopts it instead of making a second one, and keeps its title and text.",
    example: "123456789",
    check: matches(/^[1-9]\d{0,19}$/, "a GitHub release id (digits)"),
  },
  githubEnvironment: {
    kind: "string",
    doc: "GitHub environment the publish workflow runs in, made with its secrets (registry, packagecloud, GitHub, Pulumi) and limited to release tags; `none` to manage it by hand.",
    default: both("none"),
    example: "release",
    check: matches(/^[A-Za-z0-9_.-]{1,255}$/, "an environment name (letters, digits, . _ -)"),
  },
  ciPulumiBackendUrl: {
    kind: "string",
    doc: "Pulumi backend the publish workflow uses (stored as variable PULUMI_BACKEND_URL); it must be the one this stack lives in.",
    example: "s3://my-bucket/ralph-release",
    check: matches(/^[a-z0-9]+:\/\/\S+$/, "a backend URL like s3://bucket/path or https://api.pulumi.com"),
  },
  ciPulumiPassphrase: {
    kind: "secret",
    doc: "This stack's passphrase (secret), stored for the publish workflow as PULUMI_CONFIG_PASSPHRASE.",
    example: "<stack passphrase>",
  },
  ciPulumiAccessToken: {
    kind: "secret",
    doc: "Pulumi Cloud access token (secret), stored for the publish workflow as PULUMI_ACCESS_TOKEN.",
    example: "<pul-… token>",
  },
  debTargets: {
    kind: "string",
    doc: "Where the deb is published, comma-separated: `packagecloud`, `aptly` (a self-hosted apt repository on this machine), or `none`. Release images install ralph-core from the first one.",
    default: { snapshot: "aptly", release: "packagecloud" },
    example: "packagecloud,aptly",
    check: (v) => {
      const targets = v.split(",").map((t) => t.trim());
      const unknown = targets.filter((t) => !(DEB_TARGETS as readonly string[]).includes(t));
      if (v === "none") return undefined;
      if (unknown.length > 0)
        return `names ${unknown.map((t) => JSON.stringify(t)).join(", ")}, not one of ${DEB_TARGETS.join(", ")} (or none)`;
      return new Set(targets).size === targets.length ? undefined : "names a target twice";
    },
  },
  aptlyRoot: {
    kind: "string",
    doc: "aptly's root directory (database, pool, `public/` to serve), absolute or relative to this project.",
    default: both("build/aptly"),
    example: "/srv/aptly",
  },
  aptlyUrl: {
    kind: "string",
    doc: "URL at which `<aptlyRoot>/public` is served; release images install from it when aptly is their source.",
    example: "https://apt.example.com/ralph",
    check: (v) =>
      userinfoProblem(v) ?? (/^https?:\/\/[^\s]+$/.test(v) ? undefined : `${JSON.stringify(v)} is not an http(s) URL`),
  },
  aptlyGpgKey: {
    kind: "string",
    doc: "GPG key id aptly signs the repository with (from your keyring); required on release. Unsigned without it.",
    example: "0123456789ABCDEF",
    check: matches(/^[0-9A-Fa-f]{8,40}$/, "a GPG key id or fingerprint"),
  },
  indexWaitSeconds: {
    kind: "string",
    doc: "How long the release waits for the published version to be installable from its apt repository.",
    default: both("600"),
    example: "600",
    check: matches(/^[1-9]\d{0,4}$/, "a number of seconds (1-99999)"),
  },
  images: {
    kind: "boolean",
    doc: "Build and smoke-test the three images. `false` makes a deb-only stack (Ralph's `make build-package`): no image build, no push.",
    default: both(true),
    example: "false",
  },
  publishImages: {
    kind: "boolean",
    doc: "Push the images to `registry`.",
    default: { snapshot: false, release: true },
    example: "true",
  },
  githubRelease: {
    kind: "boolean",
    doc: "Create the GitHub release.",
    default: { snapshot: false, release: true },
    example: "true",
  },
  signingKey: {
    kind: "secret",
    doc: "PEM private key (ECDSA P-256, secret) the Sigstore bundles are signed with where no CI identity is at hand; in GitHub Actions (`id-token: write`) they are signed keyless with the workflow's identity. Unset: a snapshot signs with a throw-away key per build (its public half written beside the build); a release outside the publish workflow is refused. A key file goes in on standard input.",
    example: "<PEM private key>",
    check: (v) => (/-----BEGIN (EC )?PRIVATE KEY-----/.test(v) ? undefined : "is not a PEM private key"),
  },
  gpgSigningKey: {
    kind: "secret",
    doc: "The release's OpenPGP signing key (armored secret key without a passphrase, secret): SHA256SUMS is signed with it, and users check with its public half (`npm run verify -- <version> --gpg-key`). A release needs it, or `aptlyGpgKey` (a key in this machine's keyring); snapshots without either sign with a throw-away key and say so. It goes in on standard input: `gpg --armor --export-secret-keys <id> | pulumi config set --secret gpgSigningKey`.",
    example: "<armored OpenPGP secret key>",
    check: (v) =>
      /-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(v)
        ? undefined
        : "is not an armored OpenPGP secret key (gpg --armor --export-secret-keys)",
  },
  sigstoreFulcioUrl: {
    kind: "string",
    doc: "Sigstore's certificate authority (Fulcio) for keyless signing.",
    default: both("https://fulcio.sigstore.dev"),
    example: "https://fulcio.sigstore.dev",
    check: checkHttpsUrl,
  },
  sigstoreRekorUrl: {
    kind: "string",
    doc: "Sigstore's transparency log (Rekor) keyless signatures are logged in.",
    default: both("https://rekor.sigstore.dev"),
    example: "https://rekor.sigstore.dev",
    check: checkHttpsUrl,
  },
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof KEYS;

/** What the offline plan puts in place of a secret it does not read (or that is not set): never checked as a value. */
export const PLAN_PLACEHOLDERS = ["<secret: set, not read by the plan>", "<not set: offline plan>"];

/**
 * How to store a secret: the value on standard input (or at pulumi's hidden prompt), never as an
 * argument, where shell history and the process list would keep it.
 */
export function secretSetCommand(key: SecretKey, stack?: string): string {
  return `pulumi config set${stack ? ` --stack ${stack}` : ""} --secret ${key} (type ${KEYS[key].example} at its hidden prompt, or pipe it in; never as an argument)`;
}

/** Whether `key` is a setting held as a Pulumi secret. */
export function isSecretKey(key: string): key is SecretKey {
  return key in KEYS && KEYS[key as ConfigKey].kind === "secret";
}

type KeysWhere<Condition> = { [K in ConfigKey]: (typeof KEYS)[K] extends Condition ? K : never }[ConfigKey];
/** Keys held as Pulumi secrets. */
export type SecretKey = KeysWhere<{ kind: "secret" }>;
/** Keys of true/false values (each has a default). */
export type FlagKey = KeysWhere<{ kind: "boolean" }>;
/** Text keys with a default in both modes: reading one always gives a value. */
export type DefaultedKey = Exclude<KeysWhere<{ default: object }>, FlagKey>;

export const SECRET_KEYS = (Object.keys(KEYS) as ConfigKey[]).filter(isSecretKey);

/** The key a mistyped `unknown` most likely meant, if one is close enough. */
export function closestKey(unknown: string): ConfigKey | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length];
  };
  const scored = (Object.keys(KEYS) as ConfigKey[]).map((k) => ({
    k,
    d: distance(unknown.toLowerCase(), k.toLowerCase()),
  }));
  const best = scored.sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 3 ? best.k : undefined;
}
