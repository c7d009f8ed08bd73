/**
 * ralph-release's command line: `npm run --silent cli -- <command>`. Prints results on stdout only,
 * so scripts can capture them; failures go to stderr with a non-zero exit.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isUserFacing, UserError } from "../lib/errors";
import type { DebBuildRequest } from "../lib/deb/build";
import type { VerifyRequest } from "../lib/deb/verify";
import type { IndexWaitRequest } from "../lib/publish/indexWait";
import type { AptlyPublication, AptlyPublishRequest } from "../lib/publish/aptly";
import type { PublishedDebRequest } from "../lib/publish/published";
import type { BuiltImage, ImageAdoption } from "../lib/images/adopt";
import type { ImageBuildRequest, SmokeRequest, StageRequest } from "../lib/images/build";
import type { PublishedCheckRequest, PushRequest, PushResult, RegistryFacts } from "../lib/images/publish";
import type { AttestRequest } from "../lib/supply/attest";
import type { GithubReleaseRequest, GithubReleaseResult } from "../lib/github/releaseClient";
import { expandPaths, type MachineRoots, tokenizePaths } from "../lib/steps/machineRoots";
import type { StepReadRequest } from "../lib/steps/read";

// A step starts this CLI for one command: each command requires only its own modules (a deb build
// never loads Sigstore's), so that a step's start-up is node's plus what it needs. Required, not
// imported: tsx's CommonJS loader, which the steps run under, transforms require only.

const USAGE = `usage: npm run --silent cli -- version show|generate [--source DIR] [--main-branch NAME] [--json]
       npm run release-new-version -- [--source DIR] [--main-branch NAME] [--sign [--signing-key ID]] [--json]
       npm run --silent cli -- deb build|verify|check
       npm run --silent cli -- image stage|build|smoke|check|push
       npm run --silent cli -- apt aptly|wait
       npm run --silent cli -- supply attest
       npm run --silent cli -- github release
       npm run --silent cli -- step read

  version show       the checkout's version: its release tag, or <next>-<branch>-SNAPSHOT
  version generate   the next release version, YYYYMMDD.PATCH (UTC date)
  version tag        release-new-version: tag the next release on the main branch (annotated; GPG-signed
                     with --sign, or RALPH_RELEASE_SIGNING_KEY=<key id>) and print what to push
  deb build          build ralph-core from the JSON request in RALPH_DEB_BUILD; prints the artifact as JSON
  deb verify         run the verification gate on the JSON request in RALPH_DEB_VERIFY; prints the checks
                     (both are what the DebPackage component runs; progress goes to stderr)
  deb check          release: refuse a version a deb target holds that this stack did not build (RALPH_DEB_CHECK)
  image stage        stage the ralph image's context from RALPH_IMAGE_STAGE (RalphImages runs it)
  image build        build the image RALPH_IMAGE_BUILD describes, or pull back the one it built before
                     (RALPH_IMAGE_ADOPT, RALPH_STEP_PREVIOUS); prints its id (ImageBuild runs it)
  image smoke        smoke-test the image in RALPH_IMAGE_SMOKE (RalphImages runs it)
  image check        release: refuse version tags in the registry this stack did not push (RALPH_IMAGE_CHECK)
  image push         push the image in RALPH_IMAGE_PUSH; a release's version tag only once (RalphImages runs it)
  apt aptly          add the deb to aptly and publish, from RALPH_APTLY_PUBLISH (AptlyRepository runs it)
  apt wait           wait until RALPH_APT_WAIT's version is in its apt index (AptIndexWait runs it)
  supply attest      SBOMs, provenance, Sigstore bundles (attached to pushed images), SHA256SUMS and its
                     signature for RALPH_SUPPLY_ATTEST (Attestations runs it; npm run verify checks them)
  github release     the tag's GitHub release from RALPH_GITHUB_RELEASE: drafted or adopted, every asset
                     uploaded once (by name and sha256), published last (GithubRelease runs it;
                     RALPH_GITHUB_TOKEN)
  step read          whether what a step made is still there, for RALPH_STEP_READ (pulumi refresh runs it)

  A step's request names paths from a root ({project}/build/…, {checkout}); RALPH_MACHINE_ROOTS says
  where the roots are on this machine, and the result names them the same way.

  --source DIR        Ralph checkout (default: RALPH_SOURCE, else ../ralph beside this project, as for
                      npm run plan and npm run release; relative to the directory npm was started from)
  --main-branch NAME  Ralph's main branch (default: ng)
  --json              show: every fact behind the version, as JSON

  RALPH_RELEASE_NOW=<ISO time> pins the clock (for reproducing a past answer).`;

class UsageError extends UserError {}

const PROJECT_DIR = resolve(__dirname, "..");

/** The checkout `plan` and `release` would package, so that every command answers for the same tree. */
function checkoutDir(source: string | undefined): string {
  const { KEYS } = require("../lib/config") as typeof import("../lib/config");
  const { settingsFromEnvironment } = require("./stackConfig") as typeof import("./stackConfig");
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const given = source ?? settingsFromEnvironment(process.env).values.source;
  return given ? resolve(cwd, given) : resolve(PROJECT_DIR, KEYS.source.default.snapshot);
}

function clock(): () => Date {
  const pinned = process.env.RALPH_RELEASE_NOW;
  if (pinned === undefined) return () => new Date();
  const date = new Date(pinned);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`RALPH_RELEASE_NOW=${pinned} is not an ISO date-time (e.g. 2024-11-24T09:00:00Z).`);
  return () => date;
}

/** Where a step's roots are on this machine (PipelineStep sets it); absent when the CLI is called by hand. */
function machineRoots(): MachineRoots | undefined {
  const value = process.env.RALPH_MACHINE_ROOTS;
  return value ? (JSON.parse(value) as MachineRoots) : undefined;
}

function parseJson<T>(variable: string, value: string): T {
  try {
    const parsed = JSON.parse(value) as T;
    const roots = machineRoots();
    return roots ? expandPaths(parsed, roots) : parsed;
  } catch (error) {
    if (error instanceof SyntaxError) throw new UsageError(`${variable} is not valid JSON.`);
    throw error;
  }
}

function jsonRequest<T>(variable: string): T {
  const value = process.env[variable];
  if (!value)
    throw new UsageError(`${variable} is not set: it carries the JSON request (the DebPackage component sets it).`);
  return parseJson<T>(variable, value);
}

/** What the step printed the last time it ran (its own state), on this machine's paths. */
function previousResult<T>(): T | undefined {
  const value = process.env.RALPH_STEP_PREVIOUS;
  return value ? parseJson<T>("RALPH_STEP_PREVIOUS", value) : undefined;
}

/** A step's result names this machine's paths from their roots, like its request. */
function stepResult(json: string): string {
  const roots = machineRoots();
  return roots ? JSON.stringify(tokenizePaths(JSON.parse(json), roots)) : json;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** The registry password, taken out of the environment: the build's tools (docker build) never see it. */
function takeRegistryPassword(): string | undefined {
  const password = process.env.RALPH_REGISTRY_PASSWORD || undefined;
  delete process.env.RALPH_REGISTRY_PASSWORD;
  return password;
}

/** The registry facts a step gets outside its request (PipelineStep's runtime environment). */
function registryFacts(): RegistryFacts {
  return {
    password: process.env.RALPH_REGISTRY_PASSWORD || undefined,
    recordedTags: JSON.parse(process.env.RALPH_RECORDED_VERSION_TAGS || "{}") as Record<string, string>,
    previous: previousResult<PushResult>(),
  };
}

async function step(action: string | undefined): Promise<string> {
  if (action !== "read") throw new UsageError(USAGE);
  const read = jsonRequest<StepReadRequest>("RALPH_STEP_READ");
  const { readStep } = require("../lib/steps/read") as typeof import("../lib/steps/read");
  const reading = await readStep(read, registryFacts(), process.env.RALPH_GITHUB_TOKEN || undefined);
  const result = reading.result === undefined ? undefined : stepResult(JSON.stringify(reading.result));
  return JSON.stringify({ present: reading.present, result });
}

async function deb(action: string | undefined): Promise<string> {
  switch (action) {
    case "build": {
      const { buildDeb } = require("../lib/deb/build") as typeof import("../lib/deb/build");
      return JSON.stringify(await buildDeb(jsonRequest<DebBuildRequest>("RALPH_DEB_BUILD"), progress));
    }
    case "verify": {
      const { verifyDeb } = require("../lib/deb/verify") as typeof import("../lib/deb/verify");
      return JSON.stringify(await verifyDeb(jsonRequest<VerifyRequest>("RALPH_DEB_VERIFY"), progress));
    }
    case "check": {
      const { checkPublishedDeb } = require("../lib/publish/published") as typeof import("../lib/publish/published");
      return JSON.stringify(
        await checkPublishedDeb(jsonRequest<PublishedDebRequest>("RALPH_DEB_CHECK"), {
          packagecloudToken: process.env.RALPH_PACKAGECLOUD_TOKEN || undefined,
          recordedSha256: process.env.RALPH_RECORDED_DEB_SHA256 || undefined,
        }),
      );
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function image(action: string | undefined): Promise<string> {
  switch (action) {
    case "stage": {
      const { stageRalphContext } = require("../lib/images/build") as typeof import("../lib/images/build");
      return JSON.stringify(stageRalphContext(jsonRequest<StageRequest>("RALPH_IMAGE_STAGE")));
    }
    case "build": {
      const { buildOrAdoptImage } = require("../lib/images/adopt") as typeof import("../lib/images/adopt");
      return JSON.stringify(
        await buildOrAdoptImage(
          jsonRequest<ImageBuildRequest>("RALPH_IMAGE_BUILD"),
          previousResult<BuiltImage>(),
          process.env.RALPH_IMAGE_ADOPT ? jsonRequest<ImageAdoption>("RALPH_IMAGE_ADOPT") : undefined,
          takeRegistryPassword(),
          (chunk) => process.stderr.write(chunk),
        ),
      );
    }
    case "smoke": {
      const { smokeTest } = require("../lib/images/build") as typeof import("../lib/images/build");
      const request = jsonRequest<SmokeRequest>("RALPH_IMAGE_SMOKE");
      const seen = await smokeTest(request);
      progress(`smoke ok: ${request.kind} ${request.image}: ${seen}`);
      return JSON.stringify({ ...request, seen });
    }
    case "check": {
      const { checkPublishedImages } = require("../lib/images/publish") as typeof import("../lib/images/publish");
      return JSON.stringify(
        await checkPublishedImages(jsonRequest<PublishedCheckRequest>("RALPH_IMAGE_CHECK"), registryFacts()),
      );
    }
    case "push": {
      const { pushImage } = require("../lib/images/publish") as typeof import("../lib/images/publish");
      return JSON.stringify(await pushImage(jsonRequest<PushRequest>("RALPH_IMAGE_PUSH"), registryFacts(), progress));
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function apt(action: string | undefined): Promise<string> {
  switch (action) {
    case "aptly": {
      const { publishToAptly } = require("../lib/publish/aptly") as typeof import("../lib/publish/aptly");
      return JSON.stringify(
        await publishToAptly(
          jsonRequest<AptlyPublishRequest>("RALPH_APTLY_PUBLISH"),
          previousResult<AptlyPublication>(),
        ),
      );
    }
    case "wait": {
      const { waitForIndexedVersion } =
        require("../lib/publish/indexWait") as typeof import("../lib/publish/indexWait");
      const request = jsonRequest<IndexWaitRequest>("RALPH_APT_WAIT");
      const { waitedMs } = await waitForIndexedVersion({ ...request, log: progress });
      progress(`${request.packageName} ${request.version} is installable from ${request.baseUrl}`);
      return JSON.stringify({ ...request, waitedMs });
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function supply(action: string | undefined): Promise<string> {
  if (action !== "attest") throw new UsageError(USAGE);
  const { attest } = require("../lib/supply/attest") as typeof import("../lib/supply/attest");
  const result = await attest(
    jsonRequest<AttestRequest>("RALPH_SUPPLY_ATTEST"),
    {
      signingKey: process.env.RALPH_SIGNING_KEY || undefined,
      gpgSigningKey: process.env.RALPH_GPG_SIGNING_KEY || undefined,
      registryPassword: process.env.RALPH_REGISTRY_PASSWORD || undefined,
      env: process.env,
    },
    progress,
  );
  return JSON.stringify(result);
}

async function github(action: string | undefined): Promise<string> {
  if (action !== "release") throw new UsageError(USAGE);
  const { publishRelease } = require("../lib/github/releaseClient") as typeof import("../lib/github/releaseClient");
  const result = await publishRelease(
    jsonRequest<GithubReleaseRequest>("RALPH_GITHUB_RELEASE"),
    process.env.RALPH_GITHUB_TOKEN ?? "",
    previousResult<GithubReleaseResult>(),
    progress,
  );
  return JSON.stringify(result);
}

export async function run(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      source: { type: "string" },
      "main-branch": { type: "string" },
      json: { type: "boolean" },
      sign: { type: "boolean" },
      "signing-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return USAGE;
  const [command, action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(USAGE);
  if (command === "deb") return stepResult(await deb(action));
  if (command === "image") return stepResult(await image(action));
  if (command === "apt") return stepResult(await apt(action));
  if (command === "supply") return stepResult(await supply(action));
  if (command === "github") return stepResult(await github(action));
  if (command === "step") return step(action);
  if (command !== "version") throw new UsageError(USAGE);
  const { generateVersion, showVersion } = require("../lib/version/version") as typeof import("../lib/version/version");
  const { tagNewVersion } = require("../lib/version/releaseTag") as typeof import("../lib/version/releaseTag");
  const options = {
    source: checkoutDir(values.source),
    mainBranch: values["main-branch"] ?? "ng",
    now: clock(),
  };
  switch (action) {
    case "show": {
      const checkout = showVersion(options);
      return values.json ? JSON.stringify(checkout, null, 2) : checkout.version;
    }
    case "generate":
      return generateVersion(options);
    case "tag": {
      const key = values["signing-key"] ?? process.env.RALPH_RELEASE_SIGNING_KEY;
      const created = tagNewVersion({ ...options, sign: key ?? values.sign === true });
      if (values.json) return JSON.stringify(created, null, 2);
      const how = created.signed ? "signed tag" : "annotated tag";
      progress(`Created ${how} ${created.tag} on ${created.commit.slice(0, 12)}. Next:`);
      created.next.forEach((step, i) => progress(`  ${i + 1}. ${step}`));
      return created.tag;
    }
    default:
      throw new UsageError(USAGE);
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (output) => process.stdout.write(`${output}\n`),
    (error: Error) => {
      const known = isUserFacing(error);
      process.stderr.write(`ralph-release: ${known ? error.message : error.stack}\n`);
      process.exitCode = known && !(error instanceof UsageError) ? 1 : 2;
    },
  );
}
