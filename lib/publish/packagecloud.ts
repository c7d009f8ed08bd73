/**
 * packagecloud's HTTP API v1, for the one job ralph-release has: put ralph-core's .deb into
 * `<user>/<repo>/<distro>/<release>` exactly once, and find it again.
 *
 * Plain functions over Node's own fetch/FormData (no classes, no module state): the Pulumi dynamic
 * provider that uses them is serialised by value, and so is everything it captures. Node built-ins
 * are required where used, not imported: the serialiser turns a captured module object into a
 * `require` only when the program runs as CommonJS, and cannot serialise native functions otherwise.
 *
 * Routes (https://packagecloud.io/docs/api): token as the HTTP basic user with an empty password;
 * GET /api/v1/distributions.json; POST /api/v1/repos/:user/:repo/packages.json (multipart
 * `package[distro_version_id]`, `package[package_file]`); GET
 * /api/v1/repos/:user/:repo/packages/deb/:distro/:release/:package/:arch/versions.json (paginated by
 * `Link: rel="next"`) then each package's `package_url`; DELETE /api/v1/repos/:user/:repo/:distro/:release/:filename.
 */

export interface RetryPolicy {
  /** One request's limit; an upload of a large deb needs minutes. */
  readonly requestTimeoutMs: number;
  /** No retry starts after this much time since the first attempt. */
  readonly deadlineMs: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  requestTimeoutMs: 300_000,
  deadlineMs: 900_000,
  initialDelayMs: 2_000,
  maxDelayMs: 60_000,
};

export interface PackagecloudConnection {
  /** API base, like https://packagecloud.io. */
  readonly url: string;
  readonly token: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Progress lines (never holding the token). */
  readonly log?: (line: string) => void;
}

/** Where one deb lives on packagecloud. */
export interface DebCoordinates {
  /** `<user>/<repo>`. */
  readonly repository: string;
  readonly distro: string;
  readonly release: string;
  readonly packageName: string;
  readonly version: string;
  readonly architecture: string;
}

export interface PublishedPackage {
  readonly filename: string;
  readonly sha256: string;
  /** API URL of the package (its `package_url`). */
  readonly packageUrl: string;
  /** Whether packagecloud reports the package in its apt index yet. */
  readonly indexed: boolean;
}

/**
 * A refusal a user fixes (bad token, unknown repository, immutable version); never retried. A plain
 * Error, not a subclass: Pulumi's closure serialiser rewrites classes, and an Error subclass loses
 * its message on the way.
 */
export function packagecloudError(message: string, status?: number): Error & { status?: number } {
  return Object.assign(new Error(message), { name: "PackagecloudError", status });
}

export function debFilename(deb: Pick<DebCoordinates, "packageName" | "version" | "architecture">): string {
  // Debian's pool file name drops the epoch.
  return `${deb.packageName}_${deb.version.replace(/^\d+:/, "")}_${deb.architecture}.deb`;
}

export function sha256OfFile(path: string): Promise<string> {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const { createReadStream } = require("node:fs") as typeof import("node:fs");
  return new Promise((resolvePromise, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("error", reject)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolvePromise(hash.digest("hex")));
  });
}

interface ApiResponse {
  readonly status: number;
  readonly text: string;
  readonly link: string | null;
}

function redact(text: string, token: string): string {
  return token.length > 0 ? text.split(token).join("[token]") : text;
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (error.name === "TimeoutError") return "no answer before the request timeout";
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

/** What to do about a 4xx: the server's words plus the fix, naming the setting. */
function refusal(status: number, what: string, body: string, connection: PackagecloudConnection): Error {
  const said = redact(body.trim(), connection.token).slice(0, 500) || "(empty body)";
  const fixes: Record<number, string> = {
    // secretSetCommand's words: this module is serialised into the step, so it imports nothing.
    401: "the token was refused. Fix: `pulumi config set --secret packagecloudToken` (type the token from https://packagecloud.io/api_token at its hidden prompt, or pipe it in; never as an argument).",
    403: "the token may not write to this repository. Fix: use a token of the repository's owner or a collaborator.",
    404: "not found. Fix: check `packagecloudRepository` (<user>/<repo>) and `distribution`, and that the repository exists.",
  };
  return packagecloudError(
    `packagecloud ${what} failed with HTTP ${status}: ${said}\n${fixes[status] ?? "Fix: see the message above; this request is not retried."}`,
    status,
  );
}

/**
 * One API call with retries: network failures, timeouts, 429 and 5xx are retried with exponential
 * backoff until the deadline; any other 4xx is returned at once for the caller to explain.
 */
async function call(
  connection: PackagecloudConnection,
  what: string,
  method: string,
  pathOrUrl: string,
  body?: () => Promise<FormData>,
): Promise<ApiResponse> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...connection.retry };
  const started = Date.now();
  const origin = new URL(connection.url).origin;
  // The token goes to packagecloudUrl's origin only, whatever a page link, package URL or redirect names.
  const onOrigin = (url: URL, why: string) => {
    if (url.origin !== origin)
      throw packagecloudError(
        `packagecloud ${what}: ${why} ${url.origin}, not ${origin} (packagecloudUrl); the token is not sent ` +
          "there and nothing is done. Fix: check packagecloudUrl; if packagecloud moved, set it to the new address.",
      );
    return url;
  };
  let target = onOrigin(new URL(pathOrUrl, connection.url), "the request names");
  const authorization = `Basic ${Buffer.from(`${connection.token}:`).toString("base64")}`;
  let delay = policy.initialDelayMs;
  let redirects = 0;
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    let retryAfterMs = 0;
    try {
      const response = await fetch(target, {
        method,
        headers: { authorization, accept: "application/json", "user-agent": "ralph-release" },
        body: body ? await body() : undefined,
        signal: AbortSignal.timeout(policy.requestTimeoutMs),
        redirect: "manual",
      });
      const text = await response.text();
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        // Followed only on packagecloud's own origin: a write sent elsewhere is a failure, not a success.
        target = onOrigin(new URL(location, target), "was redirected to");
        if (++redirects > 5) throw packagecloudError(`packagecloud ${what}: more than 5 redirects`);
        attempt--;
        continue;
      }
      if (response.status < 500 && response.status !== 429) {
        return { status: response.status, text, link: response.headers.get("link") };
      }
      failure = `HTTP ${response.status} ${redact(text.trim(), connection.token).slice(0, 200)}`;
      retryAfterMs = retryAfter(response.headers.get("retry-after"));
    } catch (error) {
      if ((error as Error).name === "PackagecloudError") throw error;
      failure = describeFailure(error);
    }
    // packagecloud's Retry-After is honoured, within the deadline.
    delay = Math.max(delay, retryAfterMs);
    const elapsed = Date.now() - started;
    if (elapsed + delay > policy.deadlineMs) {
      throw packagecloudError(
        `packagecloud ${what} failed ${attempt} time(s) over ${Math.round(elapsed / 1000)} s and the ` +
          `${Math.round(policy.deadlineMs / 1000)} s deadline is reached; last failure: ${failure}. ` +
          "packagecloud or the network is unavailable: run the update again later (what was published is kept and recognised).",
      );
    }
    connection.log?.(`packagecloud ${what}: ${failure}; retry ${attempt} in ${delay} ms`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, delay));
    delay = Math.min(delay * 2, policy.maxDelayMs);
  }
}

/** Retry-After in ms: seconds or an HTTP date; 0 when absent or unreadable. */
function retryAfter(header: string | null): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

function parseJson<T>(response: ApiResponse, what: string): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw packagecloudError(`packagecloud ${what} answered HTTP ${response.status} with a body that is not JSON`);
  }
}

/** packagecloud's id of `<distro>/<release>` (e.g. ubuntu/jammy), needed for an upload. */
export async function distroVersionId(
  connection: PackagecloudConnection,
  distro: string,
  release: string,
): Promise<number> {
  const what = "distributions lookup";
  const response = await call(connection, what, "GET", "/api/v1/distributions.json");
  if (response.status !== 200) throw refusal(response.status, what, response.text, connection);
  const all = parseJson<{
    deb?: { index_name: string; versions: { index_name: string; id: number }[] }[];
  }>(response, what);
  const debDistros = all.deb ?? [];
  const version = debDistros.find((d) => d.index_name === distro)?.versions.find((v) => v.index_name === release);
  if (!version) {
    const known = debDistros.flatMap((d) => d.versions.map((v) => `${d.index_name}/${v.index_name}`));
    throw packagecloudError(
      `packagecloud has no deb distribution ${distro}/${release}. Fix: set \`distribution\` to one it has` +
        (known.length > 0 ? ` (e.g. ${known.slice(-5).join(", ")}).` : "."),
    );
  }
  return version.id;
}

/** How many pages of a package's versions are read at most (30 a page: ten thousand versions). */
const MAX_PAGES = 334;

/** The package with this file name in `<distro>/<release>`, or undefined when there is none. */
export async function findPackage(
  connection: PackagecloudConnection,
  deb: DebCoordinates,
): Promise<PublishedPackage | undefined> {
  const what = "package lookup";
  const filename = debFilename(deb);
  let next: string | undefined =
    `/api/v1/repos/${deb.repository}/packages/deb/${deb.distro}/${deb.release}/` +
    `${encodeURIComponent(deb.packageName)}/${deb.architecture}/versions.json`;
  // A bounded walk: a server whose pages never end is an error, not a hang.
  for (let page = 1; next; page++) {
    if (page > MAX_PAGES)
      throw packagecloudError(`packagecloud ${what}: more than ${MAX_PAGES} pages of versions; nothing was published`);
    const response = await call(connection, what, "GET", next);
    if (response.status === 404) {
      // No version of the package yet; a missing repository shows up at the upload with its own message.
      return undefined;
    }
    if (response.status !== 200) throw refusal(response.status, what, response.text, connection);
    const versions = parseJson<{ filename: string; package_url: string }[]>(response, what);
    const match = versions.find((v) => v.filename === filename);
    if (match) {
      const shown = await call(connection, what, "GET", match.package_url);
      if (shown.status !== 200) throw refusal(shown.status, what, shown.text, connection);
      const details = parseJson<{ filename: string; sha256sum: string; package_url?: string; indexed?: boolean }>(
        shown,
        what,
      );
      return {
        filename: details.filename,
        sha256: details.sha256sum,
        packageUrl: details.package_url ?? match.package_url,
        indexed: details.indexed ?? false,
      };
    }
    next = /<([^>]+)>;\s*rel="next"/.exec(response.link ?? "")?.[1];
  }
  return undefined;
}

function immutable(deb: DebCoordinates, published: string, local: string): Error {
  return packagecloudError(
    `${debFilename(deb)} is already published in ${deb.repository}/${deb.distro}/${deb.release} with sha256 ` +
      `${published}, and this build is ${local}. A published version never changes. Fix: release a new ` +
      "version (a new tag, or a new commit for a snapshot); to replace a snapshot, yank it on packagecloud first.",
  );
}

/**
 * Publishes the deb once. A package already there with the same checksum (a re-run after a partial
 * failure, an upload whose answer was lost) is adopted; one with a different checksum is refused.
 */
export async function publishDeb(
  connection: PackagecloudConnection,
  deb: DebCoordinates,
  debPath: string,
  sha256: string,
): Promise<PublishedPackage & { adopted: boolean }> {
  const local = await sha256OfFile(debPath);
  if (local !== sha256) {
    throw packagecloudError(
      `${debPath} changed after it was verified (sha256 ${local}, verified ${sha256}); nothing was uploaded. ` +
        "Fix: run the update again so the deb is rebuilt and verified.",
    );
  }
  const existing = await findPackage(connection, deb);
  if (existing) {
    if (existing.sha256 !== sha256) throw immutable(deb, existing.sha256, sha256);
    connection.log?.(`packagecloud: ${existing.filename} is already published with this checksum; adopting it`);
    return { ...existing, adopted: true };
  }
  const id = await distroVersionId(connection, deb.distro, deb.release);
  const filename = debFilename(deb);
  connection.log?.(`packagecloud: uploading ${filename} to ${deb.repository}/${deb.distro}/${deb.release}`);
  const what = "upload";
  const response = await call(connection, what, "POST", `/api/v1/repos/${deb.repository}/packages.json`, async () => {
    const form = new FormData();
    form.append("package[distro_version_id]", String(id));
    const { openAsBlob } = require("node:fs") as typeof import("node:fs");
    form.append("package[package_file]", await openAsBlob(debPath), filename);
    return form;
  });
  const duplicate = response.status === 422 && /already|taken|exists/i.test(response.text);
  if (response.status !== 201 && response.status !== 200 && !duplicate) {
    throw refusal(response.status, what, response.text, connection);
  }
  const published = await findPackage(connection, deb);
  if (!published) {
    throw packagecloudError(
      `packagecloud accepted ${filename} (HTTP ${response.status}) but does not list it; run the update again.`,
    );
  }
  if (published.sha256 !== sha256) throw immutable(deb, published.sha256, sha256);
  return { ...published, adopted: duplicate };
}

/** Yanks (deletes) the package; one already gone counts as yanked. */
export async function yankDeb(connection: PackagecloudConnection, deb: DebCoordinates): Promise<void> {
  const what = "yank";
  const response = await call(
    connection,
    what,
    "DELETE",
    `/api/v1/repos/${deb.repository}/${deb.distro}/${deb.release}/${debFilename(deb)}`,
  );
  if (response.status === 404 || (response.status >= 200 && response.status < 300)) return;
  throw refusal(response.status, what, response.text, connection);
}
