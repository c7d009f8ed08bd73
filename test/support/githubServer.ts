/**
 * A GitHub REST API contract server on loopback, written from GitHub's public docs (REST API
 * "Releases" and "Release assets", https://docs.github.com/en/rest/releases): only what ralph-release
 * calls, as GitHub answers it.
 *
 * - Two origins, as on github.com: the API (`url`) and the uploads host (`uploadsUrl`), where
 *   `POST /repos/{owner}/{repo}/releases/{id}/assets?name=` takes an asset's bytes. A release's
 *   `upload_url` is the RFC 6570 template GitHub gives (`…/assets{?name,label}`).
 * - `Authorization: Bearer|token <token>`: writes and drafts need it (401 `Bad credentials` for a
 *   wrong one); without it a draft is 404, as GitHub hides drafts from those who cannot push.
 * - Releases: list (paginated with `Link`, drafts included for the token), by id, by tag (published
 *   only: GitHub's "Get a release by tag name" never returns a draft), create (422 `already_exists`
 *   for a tag a published release has; another draft of a drafted tag is made, as GitHub does),
 *   update. Assets: list, get (its bytes, with `accept: application/octet-stream`, by a redirect to
 *   storage on the uploads origin), delete, upload (422 `already_exists` for a name the release
 *   has), each with the `digest` (`sha256:…`) GitHub reports; downloads at `browser_download_url`
 *   (`/{owner}/{repo}/releases/download/{tag}/{name}`, published releases).
 * - Faults, queued per route: a status with GitHub's body, `secondaryRateLimit` (403 with
 *   `retry-after`, GitHub's message), `acceptThenFail` (the upload is stored, the answer is a 502).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type GithubRoute =
  | "list-releases"
  | "get-release"
  | "release-by-tag"
  | "create-release"
  | "update-release"
  | "list-assets"
  | "delete-asset"
  | "upload-asset"
  | "get-asset"
  | "download"
  | "storage";

export type GithubFault =
  | { readonly status: number; readonly message?: string }
  | { readonly secondaryRateLimit: true; readonly retryAfterSeconds: number }
  | { readonly acceptThenFail: true };

export interface StoredAsset {
  readonly id: number;
  name: string;
  bytes: Buffer;
  readonly uploadedAt: number;
}

export interface StoredRelease {
  readonly id: number;
  readonly repository: string;
  tag_name: string;
  target_commitish: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: StoredAsset[];
}

export interface GithubRequest {
  readonly route: GithubRoute | "unknown";
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Whether the request carried the server's token. */
  readonly authorized: boolean;
  /** For updates: the fields sent. */
  readonly body?: Record<string, unknown>;
}

export interface GithubServer {
  /** API base (`githubApiUrl`). */
  readonly url: string;
  readonly uploadsUrl: string;
  readonly token: string;
  readonly releases: StoredRelease[];
  readonly requests: GithubRequest[];
  /** The next `times` requests of `route` (after `after` more pass untouched) get `fault`. */
  fail(route: GithubRoute, fault: GithubFault, times?: number, after?: number): void;
  /** A release made by hand (a maintainer's draft, say), before the pipeline runs. */
  seedRelease(release: Omit<StoredRelease, "id" | "assets" | "repository">, repository?: string): StoredRelease;
  /** Puts `bytes` in place of an asset's, as someone with write access could. */
  replaceAsset(release: StoredRelease, name: string, bytes: Buffer): void;
  close(): Promise<void>;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

export async function startGithubServer(
  options: { token?: string; repositories?: string[]; pageSize?: number } = {},
): Promise<GithubServer> {
  const token = options.token ?? "ghs_contract0123456789";
  const repositories = new Set(options.repositories ?? ["allegro/ralph"]);
  const pageSize = options.pageSize ?? 30;
  const releases: StoredRelease[] = [];
  const requests: GithubRequest[] = [];
  const faults: { route: GithubRoute; fault: GithubFault; skip: number }[] = [];
  let nextId = 1000;

  const api = createServer();
  const uploads = createServer();
  const url = await listen(api);
  const uploadsUrl = await listen(uploads);

  const assetJson = (release: StoredRelease, asset: StoredAsset) => ({
    id: asset.id,
    url: `${url}/repos/${release.repository}/releases/assets/${asset.id}`,
    browser_download_url: `${url}/${release.repository}/releases/download/${release.tag_name}/${asset.name}`,
    name: asset.name,
    label: null,
    state: "uploaded",
    content_type: "application/octet-stream",
    size: asset.bytes.length,
    digest: `sha256:${sha256(asset.bytes)}`,
    download_count: 0,
    created_at: new Date(asset.uploadedAt).toISOString(),
    updated_at: new Date(asset.uploadedAt).toISOString(),
  });
  const releaseJson = (release: StoredRelease) => ({
    id: release.id,
    url: `${url}/repos/${release.repository}/releases/${release.id}`,
    html_url: `${url}/${release.repository}/releases/${release.draft ? `untagged-${release.id}` : `tag/${release.tag_name}`}`,
    assets_url: `${url}/repos/${release.repository}/releases/${release.id}/assets`,
    upload_url: `${uploadsUrl}/repos/${release.repository}/releases/${release.id}/assets{?name,label}`,
    tag_name: release.tag_name,
    target_commitish: release.target_commitish,
    name: release.name,
    body: release.body,
    draft: release.draft,
    prerelease: release.prerelease,
    assets: release.assets.map((asset) => assetJson(release, asset)),
  });

  const serve = (origin: "api" | "uploads") => async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    const target = new URL(request.url ?? "/", "http://github.test");
    const method = request.method ?? "GET";
    const authorization = request.headers.authorization ?? "";
    const authorized = authorization === `Bearer ${token}` || authorization === `token ${token}`;
    let route: GithubRoute | "unknown" = "unknown";
    let sent: Record<string, unknown> | undefined;
    /** Set by `acceptThenFail`: the work is done, the answer is a 502. */
    let answerLost = false;
    const reply = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      if (answerLost) [status, json] = [502, { message: "Server Error" }];
      requests.push({ route, method, path: target.pathname + target.search, status, authorized, body: sent });
      response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      response.end(json === undefined ? undefined : JSON.stringify(json));
    };
    const notFound = () =>
      reply(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
    const invalid = (resource: string, field: string) =>
      reply(422, {
        message: "Validation Failed",
        errors: [{ resource, code: "already_exists", field }],
        documentation_url: "https://docs.github.com/rest",
        status: "422",
      });

    const match = (pattern: RegExp) => pattern.exec(target.pathname);
    let m: RegExpExecArray | null;
    let handler: (() => void) | undefined;
    const repoOf = (owner: string, repo: string) => `${owner}/${repo}`;
    const visible = (release: StoredRelease) => authorized || !release.draft;
    const releaseById = (repository: string, id: string) =>
      releases.find((r) => r.repository === repository && r.id === Number(id) && visible(r));

    if (origin === "uploads" && method === "GET" && (m = match(/^\/storage\/(\d+)$/))) {
      // Where GitHub's asset downloads redirect to: another origin, no token needed.
      const [, id] = m;
      route = "storage";
      handler = () => {
        const asset = releases.flatMap((r) => r.assets).find((a) => a.id === Number(id));
        if (!asset) return notFound();
        requests.push({ route, method, path: target.pathname, status: 200, authorized });
        response.writeHead(200, { "content-type": "application/octet-stream" }).end(asset.bytes);
      };
    } else if (origin === "uploads") {
      if (method === "POST" && (m = match(/^\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)\/assets$/))) {
        const [, owner, repo, id] = m;
        route = "upload-asset";
        handler = () => {
          const release = releaseById(repoOf(owner, repo), id);
          const name = target.searchParams.get("name");
          if (!release || !name) return notFound();
          if (release.assets.some((a) => a.name === name)) return invalid("ReleaseAsset", "name");
          const asset = { id: nextId++, name, bytes: body, uploadedAt: Date.now() };
          release.assets.push(asset);
          reply(201, assetJson(release, asset));
        };
      }
    } else if ((m = match(/^\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/)) && method === "GET") {
      const [, owner, repo, tag, name] = m;
      route = "download";
      handler = () => {
        const release = releases.find((r) => r.repository === repoOf(owner, repo) && r.tag_name === tag && !r.draft);
        const asset = release?.assets.find((a) => a.name === decodeURIComponent(name));
        if (!asset) return notFound();
        requests.push({ route, method, path: target.pathname, status: 200, authorized });
        response.writeHead(200, { "content-type": "application/octet-stream" }).end(asset.bytes);
      };
    } else if ((m = match(/^\/repos\/([^/]+)\/([^/]+)\/releases(?:\/(.*))?$/))) {
      const [, owner, repo, rest = ""] = m;
      const repository = repoOf(owner, repo);
      let parts: RegExpExecArray | null;
      if (!repositories.has(repository)) handler = notFound;
      else if (rest === "" && method === "GET") {
        route = "list-releases";
        handler = () => {
          const page = Math.max(1, Number(target.searchParams.get("page") ?? "1"));
          const perPage = Math.min(100, Number(target.searchParams.get("per_page") ?? pageSize));
          // Newest first, as GitHub lists them.
          const all = releases.filter((r) => r.repository === repository && visible(r)).reverse();
          const items = all.slice((page - 1) * perPage, page * perPage);
          const last = Math.max(1, Math.ceil(all.length / perPage));
          const link =
            page < last
              ? { link: `<${url}${target.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` }
              : undefined;
          reply(200, items.map(releaseJson), link);
        };
      } else if (rest === "" && method === "POST") {
        route = "create-release";
        handler = () => {
          const fields = JSON.parse(body.toString() || "{}") as Partial<StoredRelease>;
          sent = fields as Record<string, unknown>;
          if (!fields.tag_name) return reply(422, { message: "Validation Failed" });
          // A published release holds its tag; drafts of one tag may be many (a second create is no error).
          if (releases.some((r) => r.repository === repository && r.tag_name === fields.tag_name && !r.draft))
            return invalid("Release", "tag_name");
          const release: StoredRelease = {
            id: nextId++,
            repository,
            tag_name: fields.tag_name,
            target_commitish: fields.target_commitish ?? "main",
            name: fields.name ?? fields.tag_name,
            body: fields.body ?? "",
            draft: fields.draft ?? false,
            prerelease: fields.prerelease ?? false,
            assets: [],
          };
          releases.push(release);
          reply(201, releaseJson(release));
        };
      } else if ((parts = /^tags\/(.+)$/.exec(rest)) && method === "GET") {
        route = "release-by-tag";
        handler = () => {
          const release = releases.find(
            (r) => r.repository === repository && r.tag_name === decodeURIComponent(parts![1]) && !r.draft,
          );
          return release ? reply(200, releaseJson(release)) : notFound();
        };
      } else if ((parts = /^assets\/(\d+)$/.exec(rest)) && method === "GET") {
        route = "get-asset";
        handler = () => {
          const release = releases.find(
            (r) => r.repository === repository && visible(r) && r.assets.some((a) => a.id === Number(parts![1])),
          );
          const asset = release?.assets.find((a) => a.id === Number(parts![1]));
          if (!release || !asset) return notFound();
          // The bytes: a redirect to storage on another origin, as GitHub answers.
          if (request.headers.accept === "application/octet-stream")
            return reply(302, undefined, { location: `${uploadsUrl}/storage/${asset.id}` });
          reply(200, assetJson(release, asset));
        };
      } else if ((parts = /^assets\/(\d+)$/.exec(rest)) && method === "DELETE") {
        route = "delete-asset";
        handler = () => {
          const release = releases.find(
            (r) => r.repository === repository && r.assets.some((a) => a.id === Number(parts![1])),
          );
          if (!release) return notFound();
          release.assets = release.assets.filter((a) => a.id !== Number(parts![1]));
          reply(204);
        };
      } else if ((parts = /^(\d+)\/assets$/.exec(rest)) && method === "GET") {
        route = "list-assets";
        handler = () => {
          const release = releaseById(repository, parts![1]);
          if (!release) return notFound();
          const page = Math.max(1, Number(target.searchParams.get("page") ?? "1"));
          const perPage = Math.min(100, Number(target.searchParams.get("per_page") ?? pageSize));
          const items = release.assets.slice((page - 1) * perPage, page * perPage);
          const link =
            page * perPage < release.assets.length
              ? { link: `<${url}${target.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` }
              : undefined;
          reply(
            200,
            items.map((asset) => assetJson(release, asset)),
            link,
          );
        };
      } else if ((parts = /^(\d+)$/.exec(rest)) && (method === "GET" || method === "PATCH")) {
        route = method === "GET" ? "get-release" : "update-release";
        handler = () => {
          const release = releaseById(repository, parts![1]);
          if (!release) return notFound();
          if (method === "PATCH") {
            const fields = JSON.parse(body.toString() || "{}") as Partial<StoredRelease>;
            sent = fields as Record<string, unknown>;
            for (const key of ["tag_name", "target_commitish", "name", "body", "draft", "prerelease"] as const)
              if (fields[key] !== undefined) (release as unknown as Record<string, unknown>)[key] = fields[key];
          }
          reply(200, releaseJson(release));
        };
      }
    }
    if (!handler) return notFound();
    // Writes, and anything sent with a token, must carry the right one.
    const writes = method !== "GET" || (origin === "uploads" && route !== "storage");
    if ((writes || authorization !== "") && !authorized && route !== "download" && route !== "storage")
      return reply(401, {
        message: "Bad credentials",
        documentation_url: "https://docs.github.com/rest",
        status: "401",
      });
    const queued = faults.findIndex((f) => f.route === route);
    const pending = queued >= 0 ? faults[queued] : undefined;
    // Requests let through before a fault count down every fault queued for the route.
    if (pending && pending.skip > 0) {
      for (const f of faults) if (f.route === route && f.skip > 0) f.skip--;
    } else if (pending) {
      const { fault } = faults.splice(queued, 1)[0];
      if ("secondaryRateLimit" in fault)
        return reply(
          403,
          {
            message:
              "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
            documentation_url:
              "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            status: "403",
          },
          { "retry-after": String(fault.retryAfterSeconds) },
        );
      if ("acceptThenFail" in fault) answerLost = true;
      else return reply(fault.status, { message: fault.message ?? "Server Error" });
    }
    handler();
  };
  api.on("request", serve("api"));
  uploads.on("request", serve("uploads"));

  return {
    url,
    uploadsUrl,
    token,
    releases,
    requests,
    fail(route, fault, times = 1, after = 0) {
      for (let i = 0; i < times; i++) faults.push({ route, fault, skip: after });
    },
    seedRelease(release, repository = [...repositories][0]) {
      const stored: StoredRelease = { ...release, id: nextId++, repository, assets: [] };
      releases.push(stored);
      return stored;
    },
    replaceAsset(release, name, bytes) {
      const asset = release.assets.find((a) => a.name === name);
      if (!asset) throw new Error(`no asset ${name}`);
      asset.bytes = bytes;
    },
    close: async () => {
      await Promise.all([api, uploads].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
