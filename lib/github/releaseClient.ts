/**
 * The GitHub release step: the release of the tag made (a draft) or adopted (a maintainer's draft,
 * pre-release or published release: title and text kept, this pipeline's section added), every
 * supply-chain file uploaded as an asset once (by name and sha256), published last, when every asset
 * is there. Through @octokit/rest with GitHub's own retry and rate-limit plugins. No Pulumi.
 *
 * Routes (https://docs.github.com/en/rest/releases): GET /repos/{o}/{r}/releases (drafts are only
 * listed, never found by tag), GET|PATCH /repos/{o}/{r}/releases/{id}, POST /repos/{o}/{r}/releases,
 * GET /repos/{o}/{r}/releases/{id}/assets, DELETE /repos/{o}/{r}/releases/assets/{id}, and POST
 * {uploads}/repos/{o}/{r}/releases/{id}/assets?name= on the uploads host the release names.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { UserError } from "../errors";
import { sha256File } from "../deb/build";
import { LOOPBACK_HOST } from "../config/checks";
import { parseSumsLine, PLAIN_FILE_NAME, SUMS } from "../supply/checksums";
import { hasArtifactSection, planAssets, withArtifactSection } from "./assets";
import { splitRepository } from "./release";

export interface GithubConnection {
  /** API base: https://api.github.com, or a GitHub Enterprise Server's https://<host>/api/v3. */
  readonly apiUrl: string;
  /** A token with `contents: write` on the repository; none for reading a public release. */
  readonly token?: string;
  readonly log: (line: string) => void;
  /** Base of the retry waits in ms (GitHub's plugins: 1000; tests shorten it). */
  readonly retryBaseMs?: number;
}

export interface GithubReleaseRequest {
  readonly apiUrl: string;
  /** `owner/repo`. */
  readonly repository: string;
  readonly tag: string;
  /** Full id of the tagged commit (a new release's target). */
  readonly commit: string;
  /** A new release's title; an adopted one keeps its own. */
  readonly title: string;
  /** This pipeline's section of the release text (lib/github/release.ts renderReleaseNotes). */
  readonly notes: string;
  /** `build/<version>/`, and the files of it that become assets (every one listed in its SHA256SUMS). */
  readonly artifactDir: string;
  readonly files: readonly string[];
  /** The deb's file name: never kept from another build. */
  readonly debFile: string;
  /** A release made by hand for this tag, by id (githubReleaseId); else found by its tag. */
  readonly releaseId?: number;
  readonly retryBaseMs?: number;
}

export interface GithubReleaseResult {
  readonly releaseId: number;
  /** The release page. */
  readonly url: string;
  readonly tag: string;
  readonly prerelease: boolean;
  /** Whether the release was there before this stack's first run (a maintainer's), and kept its text. */
  readonly adopted: boolean;
  /** name → sha256 of every asset this pipeline put there. */
  readonly assets: Readonly<Record<string, string>>;
  /** What this run uploaded. */
  readonly uploaded: readonly string[];
  /** Set by a refresh that found the release changed on GitHub. */
  readonly drift?: string;
}

type Client = InstanceType<ReturnType<typeof Octokit.plugin>>;
interface ReleaseJson {
  id: number;
  tag_name: string;
  html_url: string;
  upload_url: string;
  body?: string | null;
  draft: boolean;
  prerelease: boolean;
}
interface AssetJson {
  id: number;
  name: string;
  digest?: string | null;
  url: string;
}

const RetryingOctokit = Octokit.plugin(retry, throttling);

export function githubClient(connection: GithubConnection): Client {
  const base = connection.retryBaseMs ?? 1000;
  const limited =
    (what: string) => (after: number, options: { method: string; url: string }, _o: unknown, count: number) => {
      connection.log(`github: ${what} on ${options.method} ${options.url}; retrying in ${after} s`);
      return count < 3;
    };
  return new RetryingOctokit({
    auth: connection.token || undefined,
    baseUrl: connection.apiUrl.replace(/\/+$/, ""),
    userAgent: "ralph-release",
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => connection.log(`github: ${message}`),
      error: (message: string) => connection.log(`github: ${message}`),
    },
    retry: { retries: 3, retryAfterBaseValue: base },
    throttle: {
      // Writes are a second apart per API (GitHub's rule for many writes), whatever else runs in this process.
      id: connection.apiUrl,
      retryAfterBaseValue: base,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: limited("rate limit"),
      onSecondaryRateLimit: limited("secondary rate limit"),
    },
  });
}

/** Whose token a message names, and what it needs: the release step's, or verify's (reading only). */
interface TokenUse {
  readonly token: string;
  readonly repositoryKey: string;
  readonly apiKey: string;
  readonly needs: string;
}
const STEP_TOKEN: TokenUse = {
  token: "githubToken",
  repositoryKey: "githubRepository",
  apiKey: "githubApiUrl",
  needs: "contents: write",
};
const VERIFY_TOKEN: TokenUse = {
  token: "GITHUB_TOKEN",
  repositoryKey: "--github",
  apiKey: "GITHUB_API_URL",
  needs: "read access (contents: read), for a private repository",
};

/** GitHub's refusal as a line a user can act on; anything else as it came. */
function explain(error: unknown, what: string, repository: string, use: TokenUse = STEP_TOKEN): Error {
  const status = (error as { status?: number }).status;
  const message = ((error as Error).message ?? String(error)).split("\n")[0];
  const fix =
    status === 401
      ? `${use.token} is refused (expired or mistyped): set a token with ${use.needs} on ${repository}`
      : status === 403
        ? `the token may not do this on ${repository}: it needs ${use.needs}`
        : status === 404
          ? `${repository} is not there, or the token cannot see it: check ${use.repositoryKey} and ${use.token}`
          : status === undefined
            ? `check ${use.apiKey} and the network, then run again: nothing is published half-way`
            : "run again: every step checks what is already there";
  return new UserError(`GitHub: ${what} failed (${status ?? "no answer"}: ${message}). Fix: ${fix}.`);
}

async function call<T>(
  what: string,
  repository: string,
  run: () => Promise<{ data: T }>,
  use: TokenUse = STEP_TOKEN,
): Promise<T> {
  try {
    return (await run()).data;
  } catch (error) {
    throw explain(error, what, repository, use);
  }
}

const isStatus = (error: unknown, status: number) => (error as { status?: number }).status === status;

/** Where a release's assets are uploaded: its `upload_url`, only on GitHub's own uploads host or the API's host. */
export function uploadOrigin(apiUrl: string, uploadUrl: string): string {
  const api = new URL(apiUrl);
  const upload = new URL(uploadUrl.replace(/\{[^}]*\}$/, ""));
  const loopback = LOOPBACK_HOST.test(upload.host) && LOOPBACK_HOST.test(api.host);
  const sameService =
    upload.host === api.host ||
    (api.host === "api.github.com" && upload.host === "uploads.github.com") ||
    // A contract server on loopback serves its uploads host on a port of its own, as tests run it.
    loopback;
  const secure = upload.protocol === "https:" || (upload.protocol === "http:" && loopback);
  if (!sameService || !secure)
    throw new UserError(
      `GitHub named ${upload.origin} as the uploads host of a release of ${apiUrl}: the token is not sent there. ` +
        "Fix: check githubApiUrl (https://api.github.com, or your GitHub Enterprise Server's https://<host>/api/v3).",
    );
  return upload.origin + upload.pathname.replace(/\/repos\/.*$/, "");
}

async function findRelease(
  gh: Client,
  request: GithubReleaseRequest,
  knownId: number | undefined,
): Promise<ReleaseJson | undefined> {
  const { owner, name: repo } = splitRepository(request.repository);
  if (knownId !== undefined) {
    try {
      return (await gh.rest.repos.getRelease({ owner, repo, release_id: knownId })).data as ReleaseJson;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw explain(error, `reading release ${knownId}`, request.repository);
    }
  }
  // Drafts are listed, never found by tag: look through the list (newest first), a bounded number of pages.
  let page = 0;
  const found: ReleaseJson[] = [];
  const pages = gh.paginate.iterator(gh.rest.repos.listReleases, { owner, repo, per_page: 100 });
  try {
    for await (const { data } of pages) {
      found.push(...(data as ReleaseJson[]).filter((release) => release.tag_name === request.tag));
      if (++page >= 10) break;
    }
  } catch (error) {
    throw explain(error, `listing the releases of ${request.repository}`, request.repository);
  }
  return onlyRelease(found, request);
}

/**
 * GitHub allows several drafts of one tag (a second "create" of a draft is no error): the published
 * one, else the one this pipeline writes into, else the only one; more than that is for a person.
 */
function onlyRelease(found: ReleaseJson[], request: GithubReleaseRequest): ReleaseJson | undefined {
  if (found.length <= 1) return found[0];
  const published = found.filter((release) => !release.draft);
  const ours = found.filter((release) => hasArtifactSection(release.body));
  const pick = published.length === 1 ? published : ours.length === 1 ? ours : [];
  if (pick.length === 1) return pick[0];
  throw new UserError(
    `${request.repository} has ${found.length} releases of tag ${request.tag} (ids ${found.map((r) => r.id).join(", ")}), ` +
      "and which one is this version's is not clear. Fix: delete the drafts that are not, or set githubReleaseId to the one to use.",
  );
}

async function listAssets(gh: Client, repository: string, releaseId: number): Promise<AssetJson[]> {
  const { owner, name: repo } = splitRepository(repository);
  try {
    return (await gh.paginate(gh.rest.repos.listReleaseAssets, {
      owner,
      repo,
      release_id: releaseId,
      per_page: 100,
    })) as AssetJson[];
  } catch (error) {
    throw explain(error, `listing the assets of release ${releaseId}`, repository);
  }
}

/**
 * An asset's bytes, through the API: a token reaches a private repository's asset, and GitHub answers
 * with a redirect to its storage, which fetch follows without the token.
 */
async function assetBytes(gh: Client, repository: string, asset: AssetJson, use?: TokenUse): Promise<Buffer> {
  const { owner, name: repo } = splitRepository(repository);
  const bytes = await call(
    `downloading ${asset.name}`,
    repository,
    () =>
      gh.rest.repos.getReleaseAsset({
        owner,
        repo,
        asset_id: asset.id,
        headers: { accept: "application/octet-stream" },
      }),
    use,
  );
  return Buffer.from(bytes as unknown as ArrayBuffer);
}

/** An asset's sha256: GitHub's `digest`, else its bytes read back. */
async function assetSha256(gh: Client, repository: string, asset: AssetJson): Promise<string> {
  if (asset.digest?.startsWith("sha256:")) return asset.digest.slice("sha256:".length);
  return createHash("sha256")
    .update(await assetBytes(gh, repository, asset))
    .digest("hex");
}

async function sumsOnRelease(gh: Client, repository: string, assets: AssetJson[]): Promise<Record<string, string>> {
  const sums: Record<string, string> = {};
  for (const asset of assets) sums[asset.name] = await assetSha256(gh, repository, asset);
  return sums;
}

/** This run's files, each checked against the SHA256SUMS it is listed in: the set uploaded is the set signed. */
async function localSums(request: GithubReleaseRequest): Promise<Record<string, string>> {
  const listed = new Map(
    readFileSync(join(request.artifactDir, SUMS), "utf8")
      .split("\n")
      .flatMap((line) => {
        const parsed = parseSumsLine(line);
        return parsed ? [[parsed.file, parsed.sha256] as const] : [];
      }),
  );
  const sums: Record<string, string> = {};
  for (const file of request.files) {
    const sha = await sha256File(join(request.artifactDir, file));
    const expected = listed.get(file);
    if (expected !== undefined && expected !== sha)
      throw new UserError(
        `${file} in ${request.artifactDir} is not the file SHA256SUMS lists (sha256 ${sha}, listed ${expected}). ` +
          "Fix: run up again: the supply chain is made again from the verified deb.",
      );
    sums[file] = sha;
  }
  return sums;
}

export async function publishRelease(
  request: GithubReleaseRequest,
  token: string,
  previous: GithubReleaseResult | undefined,
  log: (line: string) => void,
): Promise<GithubReleaseResult> {
  const gh = githubClient({ apiUrl: request.apiUrl, token, log, retryBaseMs: request.retryBaseMs });
  const { owner, name: repo } = splitRepository(request.repository);
  const where = `${request.repository} ${request.tag}`;
  const local = await localSums(request);

  let release = await findRelease(gh, request, previous?.releaseId ?? request.releaseId);
  if (!release && previous)
    throw new UserError(
      `The GitHub release of ${where} (id ${previous.releaseId}) that this stack published is gone: deleted on ` +
        "GitHub. A release is history: it is not made again behind its maintainers' back. Fix: to publish it " +
        "again, forget it here (pulumi state delete the github-release step: pulumi stack --show-urns names it) " +
        "and run up.",
    );
  if (!release && request.releaseId !== undefined)
    throw new UserError(
      `githubReleaseId ${request.releaseId} is no release of ${request.repository} the token can see. Fix: unset ` +
        "githubReleaseId (the release of the tag is found, or made, by its tag) or give the right id.",
    );
  if (release && release.tag_name !== request.tag)
    throw new UserError(
      `GitHub release ${release.id} of ${request.repository} is of tag ${release.tag_name}, not ${request.tag}. ` +
        "Fix: unset githubReleaseId, or give the id of this tag's release.",
    );
  const adopted = previous?.adopted ?? (release !== undefined && !hasArtifactSection(release.body));
  if (!release) {
    log(`github: drafting the release of ${where}`);
    try {
      release = (
        await gh.rest.repos.createRelease({
          owner,
          repo,
          tag_name: request.tag,
          target_commitish: request.commit,
          name: request.title,
          body: withArtifactSection("", request.notes),
          draft: true,
          prerelease: false,
          // Not retried blindly: a create whose answer was lost made a draft, and another would make a second.
          request: { retries: 0 },
        })
      ).data as ReleaseJson;
    } catch (error) {
      // Made meanwhile, or made and its answer lost: the list says, and what is there is adopted.
      release = await findRelease(gh, request, undefined);
      if (!release) throw explain(error, `drafting the release of ${request.tag}`, request.repository);
    }
  } else {
    const state = release.draft ? "draft" : release.prerelease ? "pre-release" : "published release";
    log(`github: ${previous ? "continuing" : "adopting"} the ${state} of ${where} (id ${release.id})`);
  }
  const current: ReleaseJson = release;

  const existing = await listAssets(gh, request.repository, current.id);
  const plan = planAssets({
    onRelease: await sumsOnRelease(gh, request.repository, existing),
    local,
    recorded: previous?.assets,
    draft: current.draft,
    ours: hasArtifactSection(current.body),
    deb: request.debFile,
  });
  if (plan.refusals.length > 0)
    throw new UserError(
      `The GitHub release of ${where} holds assets this build would not match; nothing was uploaded:\n` +
        plan.refusals.map((line) => `  - ${line}`).join("\n") +
        "\n  Fix: a published asset never changes; release a new version. If an asset was replaced on GitHub " +
        "by mistake, put this stack's file back (gh release upload --clobber) and run up again.",
    );

  if (!hasArtifactSection(current.body)) {
    // Marked as this pipeline's before any upload: a run that dies next knows its own uploads.
    await call("adding the artifact section", request.repository, () =>
      gh.rest.repos.updateRelease({
        owner,
        repo,
        release_id: current.id,
        body: withArtifactSection(current.body, request.notes),
      }),
    );
  }
  const uploads = uploadOrigin(request.apiUrl, current.upload_url);
  const uploaded: string[] = [];
  for (const step of plan.actions) {
    if (step.action === "keep") {
      log(`github: ${step.name}: ${step.why}`);
      continue;
    }
    if (step.action === "replace") {
      const old = existing.find((asset) => asset.name === step.name)!;
      log(`github: ${step.name}: replacing ${step.why}`);
      await call(`deleting ${step.name}`, request.repository, () =>
        gh.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: old.id }),
      );
    }
    await uploadAsset(gh, request, current.id, uploads, step.name, local[step.name], log);
    uploaded.push(step.name);
  }

  // Published only once GitHub lists every asset with this run's bytes (or the published set kept).
  const onRelease = await sumsOnRelease(gh, request.repository, await listAssets(gh, request.repository, current.id));
  const kept = new Set(plan.actions.filter((a) => a.action === "keep").map((a) => a.name));
  const missing = Object.keys(local).filter(
    (name) => onRelease[name] === undefined || (!kept.has(name) && onRelease[name] !== local[name]),
  );
  if (missing.length > 0)
    throw new UserError(
      `GitHub does not list ${missing.join(", ")} on the release of ${where} after the upload: it stays a draft. Fix: run up again.`,
    );
  const body = withArtifactSection(current.body, request.notes);
  const published =
    current.draft || body !== current.body
      ? ((await call(`publishing the release of ${request.tag}`, request.repository, () =>
          gh.rest.repos.updateRelease({ owner, repo, release_id: current.id, body, draft: false }),
        )) as ReleaseJson)
      : current;
  log(`github: ${current.draft ? "published" : "published already"}: ${published.html_url}`);
  return {
    releaseId: current.id,
    url: published.html_url,
    tag: request.tag,
    prerelease: published.prerelease,
    adopted,
    assets: Object.fromEntries(Object.keys(local).map((name) => [name, onRelease[name]])),
    uploaded,
  };
}

async function uploadAsset(
  gh: Client,
  request: GithubReleaseRequest,
  releaseId: number,
  uploads: string,
  name: string,
  sha256: string,
  log: (line: string) => void,
): Promise<void> {
  const { owner, name: repo } = splitRepository(request.repository);
  const data = readFileSync(join(request.artifactDir, name));
  log(`github: uploading ${name} (${data.length} bytes)`);
  try {
    await gh.rest.repos.uploadReleaseAsset({
      owner,
      repo,
      release_id: releaseId,
      name,
      baseUrl: uploads,
      data: data as unknown as string,
      headers: { "content-type": "application/octet-stream", "content-length": data.length },
    });
  } catch (error) {
    // A retry after an answer lost on the way: the asset is there if GitHub took it.
    if (!isStatus(error, 422)) throw explain(error, `uploading ${name}`, request.repository);
    const there = (await listAssets(gh, request.repository, releaseId)).find((asset) => asset.name === name);
    if (!there || (await assetSha256(gh, request.repository, there)) !== sha256)
      throw explain(error, `uploading ${name}`, request.repository);
  }
}

/** The release as it is now against what this stack published: a drift line, or undefined when the same. */
export async function readRelease(
  request: GithubReleaseRequest,
  token: string,
  result: GithubReleaseResult,
): Promise<string | undefined> {
  const gh = githubClient({ apiUrl: request.apiUrl, token, log: () => undefined, retryBaseMs: request.retryBaseMs });
  const release = await findRelease(gh, request, result.releaseId);
  if (!release)
    return `the GitHub release of ${request.tag} (id ${result.releaseId}) is gone from ${request.repository}`;
  if (release.draft) return `the GitHub release of ${request.tag} is a draft again`;
  const now = await sumsOnRelease(gh, request.repository, await listAssets(gh, request.repository, release.id));
  const changed = Object.entries(result.assets).flatMap(([name, sha]) =>
    now[name] === sha ? [] : [`${name} ${now[name] ? `is sha256 ${now[name]}` : "is gone"} (published ${sha})`],
  );
  return changed.length > 0 ? `on the GitHub release of ${request.tag}: ${changed.join("; ")}` : undefined;
}

/** Downloads every asset of the published release of `tag` into `dir` (no token needed for a public one). */
export async function downloadRelease(
  connection: GithubConnection,
  repository: string,
  tag: string,
  dir: string,
): Promise<string[]> {
  const gh = githubClient(connection);
  const { owner, name: repo } = splitRepository(repository);
  let release: ReleaseJson & { assets: AssetJson[] };
  try {
    release = (await gh.rest.repos.getReleaseByTag({ owner, repo, tag })).data as typeof release;
  } catch (error) {
    if (isStatus(error, 404))
      throw new UserError(
        `${repository} has no published release of ${tag} at ${connection.apiUrl}. Fix: check the version and --github (a draft is not a release yet).`,
      );
    throw explain(error, `reading the release of ${tag}`, repository, VERIFY_TOKEN);
  }
  const names: string[] = [];
  for (const asset of release.assets) {
    if (!PLAIN_FILE_NAME.test(asset.name)) continue;
    connection.log(`download: ${asset.name}`);
    writeFileSync(join(dir, asset.name), await assetBytes(gh, repository, asset, VERIFY_TOKEN));
    names.push(asset.name);
  }
  return names;
}
