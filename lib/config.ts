/**
 * Every configuration key the program reads: type, default, documentation and validation, in one
 * place. Pure: the Pulumi side hands in the raw key/value map and which keys are secrets.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { distributionProfile, SUPPORTED_DISTRIBUTIONS } from "./distributions";
import { UserError } from "./errors";
import type { Mode } from "./version";

export const PROJECT = "ralph-release";
export const MODES: readonly Mode[] = ["snapshot", "release"];
export const DEB_TARGETS = ["packagecloud", "aptly"] as const;
export type DebTarget = (typeof DEB_TARGETS)[number];

type Kind = "string" | "boolean" | "secret";

interface KeySpec {
  readonly kind: Kind;
  readonly doc: string;
  /** Default per mode; undefined means optional (or required by a rule below). */
  readonly default?: Readonly<Record<Mode, string | boolean | undefined>>;
  /** Example value used in the fix of an error message. */
  readonly example: string;
  /** A problem with a present value, phrased to follow the key name; undefined when fine. */
  readonly check?: (value: string) => string | undefined;
}

/** `a, b (>= 1.2)` → its relations; empty for "". */
const dependencyList = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
const RELATION = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?( \((<<|<=|=|>=|>>) [A-Za-z0-9.+~:-]+\))?$/;
function dependencyListProblem(value: string): string | undefined {
  const bad = dependencyList(value).filter((item) => !RELATION.test(item));
  return bad.length > 0
    ? `${bad.map((item) => JSON.stringify(item)).join(", ")} is not a Debian package relation like \`libjpeg-dev\` or \`libfoo (>= 1.2)\``
    : undefined;
}

const both = <T extends string | boolean>(value: T) => ({ snapshot: value, release: value });

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;
const HOST_PORT = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$|^\[::1\](:\d{1,5})?$/;

function matches(pattern: RegExp, what: string) {
  return (value: string) => (pattern.test(value) ? undefined : `${JSON.stringify(value)} is not ${what}`);
}

function checkHttpsUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not a URL`;
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOST.test(url.host)) return undefined;
  return `${JSON.stringify(value)} must use https (plain http only to loopback, for tests): the token travels with every request`;
}

/** The schema. README's configuration table is generated from the same facts; keep docs here. */
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
    doc: "Target distribution as `<distro>/<release>`, as packagecloud names it; base of builder and images.",
    default: both("ubuntu/jammy"),
    example: "ubuntu/jammy",
    check: (v) =>
      distributionProfile(v)
        ? undefined
        : `${JSON.stringify(v)} is not a supported distribution (${SUPPORTED_DISTRIBUTIONS.join(", ")})`,
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
    doc: "Image of the target distribution: base of the builder and of the clean install test. Default: the distribution's official image (e.g. `ubuntu:jammy`).",
    example: "ubuntu:jammy",
    check: matches(/^[a-z0-9][a-z0-9._\/:@-]*$/, "an image reference"),
  },
  pythonMinimum: {
    kind: "string",
    doc: "Lowest python3 the deb builds and runs with (control Build-Depends/Depends). Default: the distribution's python3 (bionic 3.6, bullseye 3.9, jammy 3.10, bookworm 3.11, noble 3.12).",
    example: "3.10",
    check: matches(/^\d+\.\d+$/, "a Python version like 3.10"),
  },
  nodeMinimum: {
    kind: "string",
    doc: "Lowest nodejs for building Ralph's front end (used when the checkout has package.json and gulpfile.js).",
    default: both("22.0.0"),
    example: "22.0.0",
    check: matches(/^\d+(\.\d+){0,2}$/, "a version like 22.0.0"),
  },
  nginxImage: {
    kind: "string",
    doc: "Base image of ralph-static-nginx (a distribution image works too: nginx is installed if missing).",
    default: both("nginx:stable"),
    example: "nginx:stable",
    check: matches(/^[a-z0-9][a-z0-9._\/:@-]*$/, "an image reference"),
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
  pipArgs: {
    kind: "string",
    doc: "Extra pip arguments for the venv, space-separated (e.g. `--no-index --find-links=/wheels` offline).",
    default: both(""),
    example: "--no-index",
    check: (v) =>
      /["'\\$`]/.test(v)
        ? `${JSON.stringify(v)} contains quotes or shell characters; give plain space-separated arguments`
        : undefined,
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
    doc: "packagecloud repository `<user>/<repo>` the deb is pushed to.",
    default: both("allegro/ralph"),
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
    check: (v) => (/^https?:\/\/[^\s]+$/.test(v) ? undefined : `${JSON.stringify(v)} is not an http(s) URL`),
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
    doc: "Build and smoke-test the three images. `false` makes a deb-only stack (Ralph's `make build-package`): no image, no push, no Docker resource at all.",
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
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof KEYS;

/** Whether `key` is a setting held as a Pulumi secret. */
export function isSecretKey(key: string): boolean {
  return key in KEYS && KEYS[key as ConfigKey].kind === "secret";
}

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

export interface Settings {
  readonly mode: Mode;
  /** Absolute path of the Ralph checkout. */
  readonly source: string;
  readonly mainBranch: string;
  readonly distribution: { readonly distro: string; readonly release: string; readonly name: string };
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
  readonly packagecloud: { readonly repository: string; readonly url: string };
  readonly github: {
    readonly repository: string;
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
  /** What the stack leaves out and why (shown by `up` and the plan). */
  readonly notices: readonly string[];
  /** Deadline of the wait for the apt index, in seconds. */
  readonly indexWaitSeconds: number;
  readonly deb: {
    readonly builder: "container" | "host";
    readonly baseImage: string;
    readonly pythonMinimum: string;
    readonly nodeMinimum: string;
    readonly pipArgs: readonly string[];
    readonly extraBuildDepends: readonly string[];
    readonly extraDepends: readonly string[];
    /** Absolute; undefined: the builder builds the front end. */
    readonly frontendAssets?: string;
  };
}

/** Secret values, kept apart from Settings so that only the Pulumi side ever holds them (as secrets). */
export interface SecretValues {
  readonly registryPassword?: string;
  readonly packagecloudToken?: string;
  readonly githubToken?: string;
  readonly ciPulumiPassphrase?: string;
  readonly ciPulumiAccessToken?: string;
}

export interface RawConfig {
  readonly stack: string;
  /** Directory relative paths are resolved against (the Pulumi project). */
  readonly projectDir: string;
  /** Every config value of the stack, keyed `<namespace>:<key>` as Pulumi passes them. */
  readonly values: Readonly<Record<string, string>>;
  /** Full keys Pulumi holds as secrets. */
  readonly secretKeys: ReadonlySet<string>;
}

const full = (key: string) => `${PROJECT}:${key}`;

function setCommand(key: ConfigKey, stack: string): string {
  const spec: KeySpec = KEYS[key];
  const secret = spec.kind === "secret" ? "--secret " : "";
  return `pulumi config set --stack ${stack} ${secret}${key} '${spec.example}'`;
}

function closest(unknown: string): string | undefined {
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
  const scored = Object.keys(KEYS).map((k) => ({ k, d: distance(unknown.toLowerCase(), k.toLowerCase()) }));
  const best = scored.sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 3 ? best.k : undefined;
}

/**
 * Validates the stack's configuration and returns typed settings, or throws one ConfigError listing
 * every problem. Error text never contains a secret's value.
 */
export function parseConfig(raw: RawConfig): { settings: Settings; secrets: SecretValues } {
  const problems: ConfigProblem[] = [];
  const problem = (key: string, text: string, fix: string) => problems.push({ key: full(key), problem: text, fix });
  const { stack } = raw;

  for (const fullKey of Object.keys(raw.values)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    if (key in KEYS) continue;
    const guess = closest(key);
    problem(
      key,
      "is not a setting of ralph-release",
      `${guess ? `did you mean '${guess}'? ` : ""}Remove it with \`pulumi config rm --stack ${stack} ${key}\`; README lists every key.`,
    );
  }

  const explicitMode = raw.values[full("mode")];
  let mode: Mode;
  if (explicitMode !== undefined) {
    mode = (MODES as readonly string[]).includes(explicitMode) ? (explicitMode as Mode) : "snapshot";
  } else if ((MODES as readonly string[]).includes(stack)) {
    mode = stack as Mode;
  } else {
    mode = "snapshot";
    problem(
      "mode",
      `is not set and stack '${stack}' is not named after a mode`,
      `${setCommand("mode", stack)} (or 'release').`,
    );
  }

  const read = (key: ConfigKey): string | boolean | undefined => {
    const spec: KeySpec = KEYS[key];
    const value = raw.values[full(key)];
    if (value === undefined) return spec.default?.[mode];
    if (spec.kind === "secret") {
      if (!raw.secretKeys.has(full(key))) {
        problem(
          key,
          `is stored in plain text in Pulumi.${stack}.yaml`,
          `pulumi config rm --stack ${stack} ${key} && ${setCommand(key, stack)}`,
        );
      }
      if (value.trim() === "") problem(key, "is empty", `${setCommand(key, stack)}`);
      return value;
    }
    if (spec.kind === "boolean") {
      if (value === "true" || value === "false") return value === "true";
      problem(key, `${JSON.stringify(value)} is not true or false`, `${setCommand(key, stack)} (or false).`);
      return spec.default?.[mode];
    }
    const bad = spec.check?.(value);
    if (bad) problem(key, bad, `${setCommand(key, stack)}`);
    return value;
  };
  const text = (key: ConfigKey) => read(key) as string | undefined;
  const flag = (key: ConfigKey) => read(key) as boolean;

  text("mode");
  const sourceSetting = text("source") as string;
  const source = isAbsolute(sourceSetting) ? sourceSetting : resolve(raw.projectDir, sourceSetting);
  if (!isDirectory(source)) {
    problem(
      "source",
      `${source} does not exist or is not a directory`,
      `clone Ralph there (\`git clone https://github.com/allegro/ralph ${sourceSetting}\`) or ${setCommand("source", stack).replace("'../ralph'", "/path/to/ralph")}`,
    );
  }
  const distribution = text("distribution") as string;
  const [distro, release] = distribution.split("/");
  const targetsSetting = text("debTargets") as string;
  const debTargets = targetsSetting === "none" ? [] : (targetsSetting.split(",").map((t) => t.trim()) as DebTarget[]);
  const buildImages = flag("images");
  const publish = {
    debTargets,
    images: buildImages && flag("publishImages"),
    githubRelease: flag("githubRelease"),
  };
  const aptlyRoot = text("aptlyRoot") as string;
  const aptly = {
    root: isAbsolute(aptlyRoot) ? aptlyRoot : resolve(raw.projectDir, aptlyRoot),
    url: text("aptlyUrl"),
    gpgKey: text("aptlyGpgKey"),
  };
  const indexWaitSeconds = Number(text("indexWaitSeconds"));
  const images = {
    build: buildImages,
    registry: text("registry") as string,
    namespace: text("imageNamespace") as string,
    username: text("registryUsername"),
    nginxImage: text("nginxImage") as string,
    inkpy: undefined as Settings["images"]["inkpy"],
  };
  const mainBranch = text("mainBranch") as string;
  const frontendAssets = text("frontendAssets");
  const deb = {
    builder: text("builder") as "container" | "host",
    baseImage: text("baseImage") ?? distributionProfile(distribution)?.baseImage ?? "",
    pythonMinimum: text("pythonMinimum") ?? distributionProfile(distribution)?.python ?? "",
    nodeMinimum: text("nodeMinimum") as string,
    pipArgs: (text("pipArgs") as string).split(/\s+/).filter((arg) => arg.length > 0),
    extraBuildDepends: dependencyList(text("extraBuildDepends") as string),
    extraDepends: dependencyList(text("extraDepends") as string),
    frontendAssets:
      frontendAssets && (isAbsolute(frontendAssets) ? frontendAssets : resolve(raw.projectDir, frontendAssets)),
  };
  if (deb.frontendAssets !== undefined && !isDirectory(deb.frontendAssets)) {
    problem(
      "frontendAssets",
      `${deb.frontendAssets} does not exist or is not a directory`,
      `point it at the directory of pre-built front-end assets, or \`pulumi config rm --stack ${stack} frontendAssets\` to build the front end`,
    );
  }
  const packagecloud = { repository: text("packagecloudRepository") as string, url: text("packagecloudUrl") as string };
  const environment = text("githubEnvironment") as string;
  const github = {
    repository: text("githubRepository") as string,
    releaseId: text("githubReleaseId"),
    environment: environment === "none" ? undefined : environment,
    ciBackendUrl: text("ciPulumiBackendUrl"),
  };
  const secrets: SecretValues = {
    registryPassword: text("registryPassword"),
    packagecloudToken: text("packagecloudToken"),
    githubToken: text("githubToken"),
    ciPulumiPassphrase: text("ciPulumiPassphrase"),
    ciPulumiAccessToken: text("ciPulumiAccessToken"),
  };

  const notices: string[] = [];
  if (buildImages && flag("inkpy")) {
    const sourceSetting = text("inkpySource") as string;
    const context = isAbsolute(sourceSetting) ? sourceSetting : resolve(raw.projectDir, sourceSetting);
    const dockerfileSetting = text("inkpyDockerfile") as string;
    const dockerfile = isAbsolute(dockerfileSetting) ? dockerfileSetting : resolve(context, dockerfileSetting);
    const fix = `git clone https://github.com/allegro/inkpy ${sourceSetting} (or ${setCommand("inkpySource", stack)})`;
    if (existsSync(dockerfile)) images.inkpy = { context, dockerfile };
    else if (mode === "release") {
      problem(
        "inkpySource",
        `has no inkpy recipe: ${dockerfile} does not exist (inkpy is its own project, not part of Ralph's tree)`,
        `${fix}, or release without it: pulumi config set --stack ${stack} inkpy false`,
      );
    } else {
      notices.push(
        `inkpy left out: no ${dockerfileSetting} in ${sourceSetting} (inkpySource). To build it: ${fix}; to leave it out quietly: inkpy false.`,
      );
    }
  }
  if ((images.username === undefined) !== (secrets.registryPassword === undefined)) {
    const missing: ConfigKey = images.username === undefined ? "registryUsername" : "registryPassword";
    problem(missing, "is missing: registry username and password go together", setCommand(missing, stack));
  } else if (publish.images && images.username === undefined && !LOOPBACK_HOST.test(images.registry)) {
    for (const key of ["registryUsername", "registryPassword"] as const) {
      problem(
        key,
        `is needed to push images to ${images.registry} (publishImages is on)`,
        `${setCommand(key, stack)}, or set publishImages false.`,
      );
    }
  }
  if (debTargets.includes("packagecloud") && secrets.packagecloudToken === undefined) {
    problem(
      "packagecloudToken",
      "is needed to push the deb (debTargets has packagecloud)",
      `${setCommand("packagecloudToken", stack)}, or take packagecloud out of debTargets.`,
    );
  }
  if (mode === "release") {
    if (debTargets.length === 0) {
      problem(
        "debTargets",
        "is none, but the release ralph image installs ralph-core from a published apt repository",
        `pulumi config set --stack ${stack} debTargets packagecloud (or aptly).`,
      );
    } else if (debTargets[0] === "aptly" && aptly.url === undefined) {
      problem(
        "aptlyUrl",
        "is needed: the release ralph image installs ralph-core from the aptly repository, served at this URL",
        `serve ${aptly.root}/public over HTTP, then ${setCommand("aptlyUrl", stack)}.`,
      );
    }
    if (debTargets.includes("aptly") && aptly.gpgKey === undefined) {
      problem(
        "aptlyGpgKey",
        "is needed: a release is published to a signed apt repository only",
        `${setCommand("aptlyGpgKey", stack)} (a key id from \`gpg --list-secret-keys\`).`,
      );
    }
  }
  if (publish.githubRelease && secrets.githubToken === undefined) {
    problem(
      "githubToken",
      "is needed to create the GitHub release (githubRelease is on)",
      `${setCommand("githubToken", stack)}, or set githubRelease false.`,
    );
  } else if (github.environment !== undefined && secrets.githubToken === undefined) {
    problem(
      "githubToken",
      `is needed to manage the GitHub environment '${github.environment}' (githubEnvironment)`,
      `${setCommand("githubToken", stack)}, or pulumi config set --stack ${stack} githubEnvironment none.`,
    );
  }
  if (publish.githubRelease && mode === "snapshot") {
    problem(
      "githubRelease",
      "is on, but a snapshot has no release tag: GitHub would make one at the snapshot's commit",
      `pulumi config set --stack ${stack} githubRelease false; the release stack makes GitHub releases.`,
    );
  }
  if (github.releaseId !== undefined && !publish.githubRelease) {
    problem(
      "githubReleaseId",
      "names a release to adopt, but githubRelease is off",
      `pulumi config rm --stack ${stack} githubReleaseId, or set githubRelease true.`,
    );
  }
  if (github.environment !== undefined && !github.ciBackendUrl) {
    problem(
      "ciPulumiBackendUrl",
      `is needed: the publish workflow in environment '${github.environment}' must reach this stack's state`,
      `${setCommand("ciPulumiBackendUrl", stack)} (the backend of \`pulumi whoami --verbose\`).`,
    );
  }
  if (github.environment !== undefined && !secrets.ciPulumiPassphrase && !secrets.ciPulumiAccessToken) {
    problem(
      "ciPulumiPassphrase",
      `or ciPulumiAccessToken is needed: the publish workflow in environment '${github.environment}' must open this stack`,
      `${setCommand("ciPulumiPassphrase", stack)} (self-managed backend), or ${setCommand("ciPulumiAccessToken", stack)} (Pulumi Cloud).`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems, stack);
  return {
    settings: {
      mode,
      source,
      mainBranch,
      distribution: { distro, release, name: distribution },
      images,
      packagecloud,
      github,
      publish,
      aptly,
      indexWaitSeconds,
      deb,
      notices,
    },
    secrets,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The README's configuration table, generated from KEYS so the two cannot drift. */
export function configTable(): string {
  const show = (v: string | boolean | undefined) => (v === undefined ? "—" : `\`${v}\``);
  const rows = Object.entries(KEYS).map(([key, s]: [string, KeySpec]) => {
    const d = s.default;
    const def = !d
      ? "—"
      : d.snapshot === d.release
        ? show(d.snapshot)
        : `snapshot ${show(d.snapshot)}, release ${show(d.release)}`;
    return `| \`${key}\` | ${s.kind} | ${def} | ${s.doc} |`;
  });
  return ["| key (`ralph-release:`…) | type | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
