/**
 * What `up` needs on this machine for one stack, checked before anything runs: the Pulumi CLI and
 * backend, the configuration and the checkout, the container engine and the host tools the stack's
 * steps call, the builder's base image and whether its distribution has the Node the front end needs.
 * Each check says what it found, or what is missing and the fix. `npm run doctor` prints them;
 * `npm run release` runs them first.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { type IncomingHttpHeaders, request as httpRequest } from "node:http";
import { delimiter, join, resolve } from "node:path";
import * as semver from "semver";
import { ConfigError, describeTarget, parseConfig, type Settings } from "../lib/config";
import { buildsFrontEnd } from "../lib/deb/build";
import { distributionProfile } from "../lib/deb/distributions";
import { ARCHITECTURE, dockerArchitecture, PLATFORM, PLATFORM_FLAG } from "../lib/platform";
import { UserError } from "../lib/errors";
import { checkoutForMode } from "../lib/version/version";
import packageJson from "../package.json";
import { DEFAULT_STATE_DIR, pulumiEnvironment } from "./automation";
import { rawConfig, type StackSettings } from "./stackConfig";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found, or what is wrong. */
  readonly detail: string;
  /** How to fix it (fail and warn). */
  readonly fix?: string;
}

/**
 * `cli`: what any operation needs (CLI, backend, passphrase: destroy and refresh do not run the
 * program); `program`: also what running the program needs (configuration, checkout: preview);
 * `up`: also what building and publishing need.
 */
export type CheckScope = "cli" | "program" | "up";

export interface DoctorRequest {
  readonly stack: string;
  readonly projectDir: string;
  /** The stack's settings as `up` would get them (stack file, CI's environment, flags). */
  readonly settings: StackSettings;
  readonly env: NodeJS.ProcessEnv;
  readonly scope: CheckScope;
}

const ok = (name: string, detail: string): Check => ({ name, status: "ok", detail });
/** `fix` may be left out only when `detail` already says how to fix it. */
const fail = (name: string, detail: string, fix?: string): Check => ({ name, status: "fail", detail, fix });
const warn = (name: string, detail: string, fix?: string): Check => ({ name, status: "warn", detail, fix });

const ENGINE_FIX =
  'npm run engine (builds it from Go modules into .tools/bin), then export PATH="$PWD/.tools/bin:$PATH"';

export async function runChecks(request: DoctorRequest): Promise<Check[]> {
  const checks: Check[] = [nodeCheck(), ...pulumiChecks(request)];
  if (request.scope === "cli") return checks;
  const parsed = configChecks(request);
  checks.push(...parsed.checks);
  if (!parsed.settings) return checks;
  checks.push(checkoutCheck(parsed.settings));
  if (request.scope === "up") checks.push(...(await upChecks(parsed.settings, request)));
  return checks;
}

export function renderChecks(checks: readonly Check[]): string {
  const mark = { ok: "✓", warn: "!", fail: "✗" } as const;
  return checks
    .map(
      (c) => `${mark[c.status]} ${c.name.padEnd(16)} ${c.detail}${c.fix ? `\n  ${" ".repeat(16)} fix: ${c.fix}` : ""}`,
    )
    .join("\n");
}

function nodeCheck(): Check {
  return semver.gte(process.version, "20.0.0")
    ? ok("node", process.version)
    : fail("node", `${process.version} is older than 20`, "install Node 20 or later (https://nodejs.org)");
}

/** The first executable `name` on PATH. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter).filter((d) => d.length > 0)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function firstLine(command: string, args: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const result = spawnSync(command, args, { encoding: "utf8", env, timeout: 30_000 });
  return result.status === 0 ? (result.stdout.trim().split("\n")[0] ?? "") : undefined;
}

function pulumiChecks(request: DoctorRequest): Check[] {
  const { env } = request;
  const checks: Check[] = [];
  const cli = onPath("pulumi", env);
  const version = cli && firstLine(cli, ["version"], { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" });
  checks.push(
    cli && version
      ? ok("pulumi CLI", `${version} (${cli})`)
      : fail("pulumi CLI", "not on PATH", `install it (https://www.pulumi.com/docs/install/), or ${ENGINE_FIX}`),
  );
  const host = onPath("pulumi-language-nodejs", env);
  checks.push(
    host
      ? ok("language host", host)
      : fail("language host", "pulumi-language-nodejs is not on PATH (it runs this TypeScript program)", ENGINE_FIX),
  );
  checks.push(
    backendCheck(request.projectDir, env),
    passphraseCheck(request.stack, env, [...request.settings.secretKeys]),
  );
  return checks;
}

/** Pulumi.yaml's backend (the project's state directory) unless PULUMI_BACKEND_URL says otherwise. */
function backendCheck(projectDir: string, env: NodeJS.ProcessEnv): Check {
  const url = env.PULUMI_BACKEND_URL;
  if (!url || url.startsWith("file://")) {
    const dir = url ? resolve(projectDir, url.slice("file://".length)) : DEFAULT_STATE_DIR;
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      return ok("backend", `file://${dir} (writable)`);
    } catch (error) {
      const problem = `${dir} cannot be written: ${(error as Error).message}`;
      return fail("backend", problem, "make it writable, or set PULUMI_BACKEND_URL");
    }
  }
  if (/^https?:\/\//.test(url)) {
    const credentials = join(env.PULUMI_HOME ?? join(env.HOME ?? "", ".pulumi"), "credentials.json");
    return env.PULUMI_ACCESS_TOKEN || existsSync(credentials)
      ? ok("backend", url)
      : fail("backend", `${url} needs a Pulumi access token`, `pulumi login ${url}, or set PULUMI_ACCESS_TOKEN`);
  }
  return ok("backend", `${url} (its cloud's credentials come from the environment; not checked here)`);
}

/** The rule `npm run release` and `npm run up` apply (cli/automation.ts pulumiEnvironment). */
function passphraseCheck(stack: string, env: NodeJS.ProcessEnv, secrets: readonly string[]): Check {
  try {
    const given = pulumiEnvironment(stack, env, secrets);
    return given.PULUMI_CONFIG_PASSPHRASE === ""
      ? ok("passphrase", "not set: the local snapshot stack gets an empty one (npm run release, npm run up)")
      : ok("passphrase", "set, or kept by the backend");
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return fail("passphrase", error.message);
  }
}

function configChecks(request: DoctorRequest): { checks: Check[]; settings?: Settings } {
  try {
    const { settings } = parseConfig(
      rawConfig(request.stack, request.projectDir, request.settings, request.scope !== "up"),
    );
    const detail = `${settings.mode}: ${settings.distribution.name}, deb to ${settings.publish.debTargets.join(", ") || "nowhere"}, images ${settings.images.build ? (settings.publish.images ? `pushed to ${settings.images.registry}` : "built, not pushed") : "off"}`;
    const notices = settings.notices.map((notice) => warn("config", notice));
    return { checks: [ok("config", detail), ok("target", describeTarget(settings.target)), ...notices], settings };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { checks: error.problems.map((p) => fail("config", `${p.key}: ${p.problem}`, p.fix)) };
  }
}

function checkoutCheck(settings: Settings): Check {
  try {
    const checkout = checkoutForMode(settings.mode, { source: settings.source, mainBranch: settings.mainBranch });
    return ok("checkout", `${settings.source}: ${checkout.version} at ${checkout.commit.slice(0, 12)}`);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return fail("checkout", error.message);
  }
}

async function upChecks(settings: Settings, request: DoctorRequest): Promise<Check[]> {
  const { env } = request;
  const checks = hostTools(settings).map(({ tool, why, fix }) => {
    const found = onPath(tool, env);
    return found ? ok(tool, `${found} (${why})`) : fail(tool, `not on PATH; needed for ${why}`, fix);
  });
  // Every stack needs it: the verification gate installs the deb into a clean container of baseImage.
  const engine = await dockerEngine(env);
  checks.push(engine.check);
  if (engine.reachable) checks.push(platformCheck(env), baseImageCheck(settings, env));
  checks.push(...nodeForFrontEnd(settings), ...pluginChecks(settings, env));
  return checks;
}

interface HostTool {
  readonly tool: string;
  readonly why: string;
  readonly fix: string;
}

const APT = (packages: string) => `install it (Debian/Ubuntu: apt-get install ${packages})`;

/** The host commands the stack's steps run, for these settings. */
export function hostTools(settings: Settings): HostTool[] {
  const tools: HostTool[] = [
    { tool: "git", why: "the version and the source export", fix: APT("git") },
    { tool: "tar", why: "unpacking the exported tree", fix: APT("tar") },
  ];
  tools.push({
    tool: "docker",
    why: `${settings.deb.builder === "container" ? "the builder container, " : ""}the gate's clean install${settings.images.build ? ", the images" : ""}; any Docker-API engine, podman too`,
    fix: APT("docker.io") + "; with podman alone: apt-get install podman-docker",
  });
  if (settings.publish.images && settings.images.build) {
    tools.push({
      tool: "skopeo",
      why: "publishImages: what a tag points at in the registry (a release's version tags are written once)",
      fix: APT("skopeo"),
    });
  }
  if (settings.deb.builder === "host") {
    const build = APT("build-essential debhelper dh-virtualenv lintian fakeroot");
    tools.push(
      { tool: "dpkg-buildpackage", why: "builder host", fix: build },
      { tool: "dh_virtualenv", why: "builder host", fix: build },
      { tool: "lintian", why: "builder host: the verification gate", fix: build },
    );
  }
  if (settings.publish.debTargets.includes("aptly"))
    tools.push({ tool: "aptly", why: "debTargets aptly", fix: APT("aptly") });
  // Every build is attested: the deb is read for its SBOM, SHA256SUMS is signed (gpgSigningKey or aptlyGpgKey; a
  // snapshot without either, a throw-away key).
  tools.push(
    { tool: "dpkg-deb", why: "reading the deb (its fields, its SBOM)", fix: APT("dpkg") },
    { tool: "gpg", why: "signing SHA256SUMS and the aptly repository", fix: APT("gnupg") },
  );
  return tools;
}

/** Where the docker CLI's engine is, and what said so. */
export interface EngineEndpoint {
  readonly host: string;
  /** `DOCKER_HOST`, `docker context <name>`, or Docker's default. */
  readonly source: string;
}

const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/**
 * The engine the docker CLI (and so every step) talks to: DOCKER_HOST, else the docker context in use
 * (DOCKER_CONTEXT, or the one `docker context use` chose), else Docker's default socket.
 */
export function engineEndpoint(env: NodeJS.ProcessEnv): EngineEndpoint {
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, source: "DOCKER_HOST" };
  const context = spawnSync("docker", ["context", "inspect", "--format", "{{.Name}}\t{{.Endpoints.docker.Host}}"], {
    encoding: "utf8",
    env,
    timeout: 10_000,
  });
  const [name, host]: (string | undefined)[] = context.status === 0 ? context.stdout.trim().split("\t") : [];
  // A context named but not found: the CLI (and every step) fails; the check says how, through the CLI.
  if (context.status !== 0 && env.DOCKER_CONTEXT) return { host: "", source: `docker context ${env.DOCKER_CONTEXT}` };
  if (name && host && name !== "default") return { host, source: `docker context ${name}` };
  return { host: host || DEFAULT_DOCKER_HOST, source: "Docker's default" };
}

/**
 * Local: a socket of this machine, or TCP to its loopback (Docker Desktop's socket is local, its
 * engine in a VM). Remote: ssh://, or TCP to another host. The steps copy their inputs in either way.
 */
export function engineLocation(host: string): "local" | "remote" {
  if (/^(unix|npipe):\/\//.test(host)) return "local";
  try {
    const { hostname } = new URL(host);
    const loopback = /^127\./.test(hostname) || ["localhost", "[::1]"].includes(hostname.toLowerCase());
    return host.startsWith("tcp:") && loopback ? "local" : "remote";
  } catch {
    return "remote";
  }
}

/** The engine, asked whether it answers: /_ping where a plain socket or TCP reaches it, else the CLI. */
async function dockerEngine(env: NodeJS.ProcessEnv): Promise<{ check: Check; reachable: boolean }> {
  const endpoint = engineEndpoint(env);
  const where = endpoint.host
    ? `${endpoint.host} (${endpoint.source}, ${engineLocation(endpoint.host)}: steps copy their inputs in, nothing is mounted)`
    : endpoint.source;
  const fix =
    "start a Docker-API engine and export DOCKER_HOST, or docker context use <name> (a remote one: ssh://user@host, or tcp://host:2376 with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH; podman here: podman system service --time=0 unix:///run/podman/podman.sock &, then DOCKER_HOST=unix:///run/podman/podman.sock)";
  const plainHttp =
    /^unix:\/\//.test(endpoint.host) || (/^tcp:\/\//.test(endpoint.host) && !env.DOCKER_TLS_VERIFY && !env.DOCKER_TLS);
  try {
    let server: string;
    // A context may carry TLS material: the CLI reaches it.
    if (plainHttp && !endpoint.source.startsWith("docker context")) {
      // /_ping, not /version: podman answers /version in seconds when busy, /_ping at once.
      const { headers } = await dockerGet(endpoint.host, "/_ping");
      server = String(headers.server ?? `Docker API ${headers["api-version"] ?? "?"}`);
    } else {
      server = `Docker ${dockerCli(env, ["version", "--format", "{{.Server.Version}}"])}`;
    }
    return { check: ok("Docker API", `${server} at ${where}`), reachable: true };
  } catch (error) {
    return {
      check: fail("Docker API", `nothing answers at ${where}: ${(error as Error).message}`, fix),
      reachable: false,
    };
  }
}

/** The docker CLI's answer (ssh://, TLS and contexts are the CLI's to reach); throws with its words. */
function dockerCli(env: NodeJS.ProcessEnv, args: string[]): string {
  const result = spawnSync("docker", args, { encoding: "utf8", env, timeout: 30_000 });
  if (result.status !== 0) throw new Error((result.stderr || result.error?.message || "no answer").trim());
  return result.stdout.trim();
}

function dockerGet(host: string, path: string): Promise<{ body: string; headers: IncomingHttpHeaders }> {
  const target = host.startsWith("unix://")
    ? { socketPath: host.slice("unix://".length), path }
    : (() => {
        const url = new URL(host.replace(/^tcp:/, "http:"));
        return { host: url.hostname, port: Number(url.port || 2375), path };
      })();
  return new Promise((done, failed) => {
    const req = httpRequest({ ...target, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () =>
        res.statusCode === 200 ? done({ body, headers: res.headers }) : failed(new Error(`HTTP ${res.statusCode}`)),
      );
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", failed);
    req.end();
  });
}

/** Whether the engine runs ralph-core's platform natively, or every container under emulation. */
function platformCheck(env: NodeJS.ProcessEnv): Check {
  let engineArchitecture: string;
  try {
    engineArchitecture = dockerArchitecture(dockerCli(env, ["version", "--format", "{{.Server.Arch}}"]));
  } catch (error) {
    return warn("platform", `${PLATFORM}: the engine did not say its architecture (${(error as Error).message})`);
  }
  if (engineArchitecture === ARCHITECTURE) return ok("platform", `${PLATFORM}, the engine's own`);
  return warn(
    "platform",
    `${PLATFORM} (ralph-core is Architecture: ${ARCHITECTURE}), and the engine runs ${engineArchitecture}: every build, check and image runs under emulation, slowly (without it, each fails with "exec format error")`,
    "let the engine emulate amd64 (Docker Desktop: Use Rosetta for x86_64/amd64 emulation; Linux: binfmt, e.g. apt-get install qemu-user-static), or point DOCKER_HOST at an amd64 engine (ssh://builder@build-host)",
  );
}

function baseImageCheck(settings: Settings, env: NodeJS.ProcessEnv): Check {
  const image = settings.deb.baseImage;
  try {
    dockerCli(env, ["image", "inspect", "--format", "{{.Id}}", image]);
    return ok("base image", `${image} is on the engine`);
  } catch {
    return warn(
      "base image",
      `${image} is not on the engine: up pulls it from its registry`,
      `docker pull ${PLATFORM_FLAG} ${image} now to see that it can`,
    );
  }
}

/** The builder installs the front end's nodejs from the distribution's archive (apt-get satisfy). */
function nodeForFrontEnd(settings: Settings): Check[] {
  if (!buildsFrontEnd(settings.source, settings.deb.frontendAssets)) return [];
  const profile = distributionProfile(settings.distribution.name);
  const wanted = settings.deb.nodeMinimum;
  const archive = profile?.nodejs;
  const name = "node for the UI";
  const fix = `give the builder a nodejs >= ${wanted}: an apt source with it (nodeAptSource and nodeAptKey, e.g. NodeSource's; README "The front end"), a baseImage with it, pre-built assets (frontendAssets), or a lower nodeMinimum if the front end builds with the archive's ${archive}`;
  if (wanted === "archive") return [ok(name, `${settings.distribution.name}'s own nodejs (${archive}), unversioned`)];
  if (settings.deb.nodeAptSource)
    return [ok(name, `nodejs >= ${wanted} from nodeAptSource ${settings.deb.nodeAptSource.source}`)];
  if (settings.deb.baseImage !== profile?.baseImage)
    return [
      warn(
        name,
        `the tree builds a front end with nodejs >= ${wanted}; baseImage ${settings.deb.baseImage} is yours`,
        `make sure it has nodejs >= ${wanted} and npm`,
      ),
    ];
  const coerced = archive && semver.coerce(archive);
  if (coerced && semver.gte(coerced, semver.coerce(wanted) ?? wanted))
    return [ok(name, `${settings.distribution.name}'s nodejs ${archive} >= ${wanted}`)];
  return [
    fail(
      name,
      `the tree builds a front end (package.json) with nodejs >= ${wanted}; ${settings.distribution.name}'s archive has ${archive}`,
      fix,
    ),
  ];
}

/** The provider plugins' versions are the SDKs' in package.json. */
const PROVIDERS = {
  github: packageJson.dependencies["@pulumi/github"],
} as const;

/** Resource plugins the stack's providers need; the CLI downloads a missing one unless told not to. */
function pluginChecks(settings: Settings, env: NodeJS.ProcessEnv): Check[] {
  const needed: (keyof typeof PROVIDERS)[] = [];
  if (settings.publish.githubRelease || settings.github.environment) needed.push("github");
  const cli = onPath("pulumi", env);
  if (needed.length === 0 || !cli) return [];
  const listing = spawnSync(cli, ["plugin", "ls", "--json"], { encoding: "utf8", env, timeout: 30_000 });
  const installed =
    listing.status === 0
      ? (JSON.parse(listing.stdout || "[]") as { name: string; version: string; kind: string }[])
      : [];
  const offline = /^(1|true)$/i.test(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION ?? "");
  return needed.map((name) => {
    const version = PROVIDERS[name];
    const label = `${name} provider`;
    if (installed.some((p) => p.kind === "resource" && p.name === name && p.version === version))
      return ok(label, `resource plugin ${name} v${version} installed`);
    const fix = `pulumi plugin install resource ${name} v${version} (needs get.pulumi.com), or githubRelease false without a githubEnvironment`;
    return offline
      ? fail(
          label,
          `resource plugin ${name} v${version} is not installed and PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION forbids fetching it`,
          fix,
        )
      : warn(label, `resource plugin ${name} v${version} is not installed: up downloads it on first use`, fix);
  });
}
