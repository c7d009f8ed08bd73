/**
 * A packagecloud API v1 contract server on loopback, written from the public API docs
 * (https://packagecloud.io/docs/api): token as the HTTP basic user, JSON errors with 401/404/422,
 * multipart uploads, paginated version listings with `Link` headers. Only what ralph-release calls.
 *
 * Faults are queued per route: `fail("upload", { status: 503 }, 2)` answers the next two uploads with
 * 503 (`retryAfterSeconds` adds Retry-After); `hang` never answers; `acceptThenReset` stores the
 * upload and drops the connection (the answer is lost, the package is there); `redirectTo` answers
 * 307 to the same path on another origin.
 *
 * With `apt`, it also serves each repository as packagecloud's install instructions give it: the
 * signing key at `/<user>/<repo>/gpgkey` and `deb <url>/<user>/<repo>/<distro>/ <release> main`
 * (a signed `InRelease`, `Packages`, the pool), without a token, as a public repository. A package
 * is listed once indexed: `indexDelayMs` after its upload (packagecloud indexes asynchronously).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signingKey } from "./aptRepo";

export type Route = "distributions" | "upload" | "versions" | "show" | "yank";
export type Fault =
  | { status: number; body?: string; retryAfterSeconds?: number }
  | { hang: true }
  | { acceptThenReset: true }
  | { redirectTo: string };

export interface StoredPackage {
  readonly repository: string;
  readonly distro: string;
  readonly release: string;
  readonly filename: string;
  readonly bytes: Buffer;
  readonly sha256: string;
  indexed: boolean;
  /** When the apt index lists it (ms since the epoch). */
  indexedAt?: number;
}

export interface LoggedRequest {
  readonly route: Route | "unknown";
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly at: number;
  readonly authorization?: string;
}

/** A package's control stanza, as `dpkg-deb --field` reads it from the file. */
function controlFields(bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), "ralph-release-pc-deb-"));
  try {
    writeFileSync(join(dir, "package.deb"), bytes);
    return execFileSync("dpkg-deb", ["--field", join(dir, "package.deb")], { encoding: "utf8" }).trimEnd();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const DISTRIBUTIONS = {
  deb: [
    {
      display_name: "Ubuntu",
      index_name: "ubuntu",
      versions: [
        { id: 190, display_name: "22.04 Jammy Jellyfish", index_name: "jammy" },
        { id: 237, display_name: "24.04 Noble Numbat", index_name: "noble" },
      ],
    },
    {
      display_name: "Debian",
      index_name: "debian",
      versions: [{ id: 215, display_name: "12", index_name: "bookworm" }],
    },
  ],
  rpm: [{ display_name: "Enterprise Linux", index_name: "el", versions: [{ id: 140, index_name: "9" }] }],
};

export interface PackagecloudServer {
  readonly url: string;
  readonly token: string;
  readonly packages: StoredPackage[];
  readonly requests: LoggedRequest[];
  /** Paths of the apt tree served (with `apt`), in order. */
  readonly aptRequests: string[];
  /** The fingerprint of the key the apt tree is signed with (with `apt`): packagecloudGpgKey. */
  readonly keyFingerprint?: string;
  fail(route: Route, fault: Fault, times?: number): void;
  /** Adds an existing package, as if published earlier. */
  seed(pkg: Omit<StoredPackage, "sha256" | "indexed">): void;
  close(): Promise<void>;
}

export async function startPackagecloudServer(
  options: {
    token?: string;
    repositories?: string[];
    pageSize?: number;
    apt?: boolean;
    indexDelayMs?: number;
    /** Where package URLs point: another origin, as a hostile or moved server would answer. */
    packageUrlOrigin?: string;
  } = {},
): Promise<PackagecloudServer> {
  const token = options.token ?? "pc-token-0123456789abcdef";
  const repositories = new Set(options.repositories ?? ["allegro/ralph"]);
  const pageSize = options.pageSize ?? 30;
  const packages: StoredPackage[] = [];
  const requests: LoggedRequest[] = [];
  const aptRequests: string[] = [];
  const faults: { route: Route; fault: Fault }[] = [];
  const distroId = new Map<number, { distro: string; release: string }>();
  for (const d of DISTRIBUTIONS.deb)
    for (const v of d.versions) distroId.set(v.id, { distro: d.index_name, release: v.index_name });

  const parse = (name: string) => {
    const m = /^(.+)_(.+)_([^_]+)\.deb$/.exec(name);
    return m ? { name: m[1], version: m[2], arch: m[3] } : undefined;
  };
  const showPath = (p: StoredPackage) => {
    const f = parse(p.filename)!;
    const [version, revision] = f.version.includes("-") ? f.version.split(/-(?=[^-]+$)/) : [f.version, "0"];
    return `/api/v1/repos/${p.repository}/package/deb/${p.distro}/${p.release}/${f.name}/${f.arch}/${version}/${revision}.json`;
  };
  const summary = (p: StoredPackage) => ({
    name: parse(p.filename)!.name,
    distro_version: `${p.distro}/${p.release}`,
    version: parse(p.filename)!.version,
    type: "deb",
    filename: p.filename,
    package_url: `${options.packageUrlOrigin ?? ""}${showPath(p)}`,
  });

  const key = options.apt ? signingKey() : undefined;
  const gpg = (args: string[], input?: string) =>
    execFileSync("gpg", ["--homedir", key!.gnupgHome, "--batch", "--yes", ...args], { input, encoding: "utf8" });
  const isIndexed = (p: StoredPackage) => p.indexed && (p.indexedAt ?? 0) <= Date.now();
  const poolPath = (p: StoredPackage) =>
    `pool/${p.release}/main/${p.filename[0]}/${parse(p.filename)!.name}/${p.filename}`;
  const digest = (algorithm: string, data: Buffer | string) => createHash(algorithm).update(data).digest("hex");
  /** `Packages` of one repository's distro/release: every indexed package, pool path and checksums. */
  const packagesIndex = (repository: string, distro: string, release: string) =>
    packages
      .filter((p) => p.repository === repository && p.distro === distro && p.release === release && isIndexed(p))
      .map((p) =>
        [
          controlFields(p.bytes),
          `Filename: ${poolPath(p)}`,
          `Size: ${p.bytes.length}`,
          `MD5sum: ${digest("md5", p.bytes)}`,
          `SHA256: ${p.sha256}`,
        ].join("\n"),
      )
      .map((stanza) => `${stanza}\n\n`)
      .join("");
  const releaseFile = (repository: string, release: string, index: string) => {
    const size = Buffer.byteLength(index);
    return [
      `Origin: packagecloud.io/${repository}`,
      `Label: ${repository}`,
      `Suite: ${release}`,
      `Codename: ${release}`,
      `Date: ${new Date().toUTCString()}`,
      "Architectures: amd64",
      "Components: main",
      "MD5Sum:",
      ` ${digest("md5", index)} ${size} main/binary-amd64/Packages`,
      "SHA256:",
      ` ${digest("sha256", index)} ${size} main/binary-amd64/Packages`,
      "",
    ].join("\n");
  };
  /** A public repository's apt tree; undefined for a path that is not one. */
  const aptFile = (path: string): { body: string | Buffer; type: string } | undefined => {
    const m =
      /^\/([^/]+\/[^/]+)\/(gpgkey|([^/]+)\/(dists\/([^/]+)\/(InRelease|Release|main\/binary-amd64\/Packages)|pool\/.+))$/.exec(
        path,
      );
    if (!key || !m || !repositories.has(m[1])) return undefined;
    const [, repository, , distro, , release, file] = m;
    if (m[2] === "gpgkey") return { body: gpg(["--armor", "--export", key.keyId]), type: "application/pgp-keys" };
    if (!release) {
      const p = packages.find(
        (candidate) =>
          candidate.repository === repository &&
          candidate.distro === distro &&
          isIndexed(candidate) &&
          path.endsWith(`/${poolPath(candidate)}`),
      );
      return p && { body: p.bytes, type: "application/vnd.debian.binary-package" };
    }
    const index = packagesIndex(repository, distro, release);
    if (file.endsWith("Packages")) return { body: index, type: "text/plain" };
    const signed = releaseFile(repository, release, index);
    if (file === "Release") return { body: signed, type: "text/plain" };
    return { body: gpg(["--local-user", key.keyId, "--clearsign"], signed), type: "text/plain" };
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const served = req.method === "GET" && !path.startsWith("/api/") ? aptFile(path) : undefined;
    if (served) {
      aptRequests.push(path);
      res.writeHead(200, { "content-type": served.type, "content-length": Buffer.byteLength(served.body) });
      return res.end(served.body);
    }
    const routes: [Route, string, RegExp][] = [
      ["distributions", "GET", /^\/api\/v1\/distributions\.json$/],
      ["upload", "POST", /^\/api\/v1\/repos\/([^/]+\/[^/]+)\/packages\.json$/],
      [
        "versions",
        "GET",
        /^\/api\/v1\/repos\/([^/]+\/[^/]+)\/packages\/deb\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/versions\.json$/,
      ],
      ["show", "GET", /^\/api\/v1\/repos\/([^/]+\/[^/]+)\/package\/deb\/.+\.json$/],
      ["yank", "DELETE", /^\/api\/v1\/repos\/([^/]+\/[^/]+)\/([^/]+)\/([^/]+)\/([^/]+\.deb)$/],
    ];
    const found = routes.find(([, method, pattern]) => method === req.method && pattern.test(path));
    const route = found?.[0] ?? "unknown";
    const match = found ? (found[2].exec(path) as RegExpExecArray) : undefined;
    const body = await new Promise<Buffer>((done) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => done(Buffer.concat(chunks)));
    });
    const log = (status: number) =>
      requests.push({
        route,
        method: req.method ?? "",
        path,
        status,
        at: Date.now(),
        authorization: req.headers.authorization,
      });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      log(status);
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };

    const faultIndex = faults.findIndex((f) => f.route === route);
    const fault = faultIndex >= 0 ? faults.splice(faultIndex, 1)[0].fault : undefined;
    if (fault && "hang" in fault) {
      log(0);
      return; // never answers; the client's timeout must end it
    }
    if (fault && "status" in fault)
      return send(
        fault.status,
        fault.body ?? { error: "injected fault" },
        fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) },
      );
    if (fault && "redirectTo" in fault) {
      log(307);
      res.writeHead(307, { location: `${fault.redirectTo}${req.url ?? "/"}` }).end();
      return;
    }

    const auth = req.headers.authorization ?? "";
    const user = Buffer.from(auth.replace(/^Basic /, ""), "base64")
      .toString()
      .split(":")[0];
    if (!auth.startsWith("Basic ") || user !== token) return send(401, { error: "Unauthenticated" });
    if (!found || !match) return send(404, { error: "Not found" });
    if (route !== "distributions" && !repositories.has(match[1])) return send(404, { error: "Repository not found" });

    switch (route) {
      case "distributions":
        return send(200, DISTRIBUTIONS);
      case "upload": {
        const form = await new Response(new Uint8Array(body), {
          headers: { "content-type": req.headers["content-type"] ?? "" },
        }).formData();
        const id = Number(form.get("package[distro_version_id]"));
        const file = form.get("package[package_file]");
        const target = distroId.get(id);
        if (!target) return send(422, { distro_version_id: ["is invalid"] });
        if (!(file instanceof File) || !parse(file.name)) return send(422, { package_file: ["is invalid"] });
        if (
          packages.some(
            (p) =>
              p.repository === match[1] &&
              p.distro === target.distro &&
              p.release === target.release &&
              p.filename === file.name,
          )
        ) {
          return send(422, { filename: ["has already been taken"] });
        }
        const bytes = Buffer.from(await file.arrayBuffer());
        packages.push({
          repository: match[1],
          ...target,
          filename: file.name,
          bytes,
          sha256: createHash("sha256").update(bytes).digest("hex"),
          indexed: true,
          indexedAt: Date.now() + (options.indexDelayMs ?? 0),
        });
        if (fault && "acceptThenReset" in fault) {
          log(0);
          req.socket.destroy();
          return;
        }
        return send(201, {});
      }
      case "versions": {
        const [, repository, distro, release, name, arch] = match;
        const all = packages.filter(
          (p) =>
            p.repository === repository &&
            p.distro === distro &&
            p.release === release &&
            parse(p.filename)?.name === name &&
            parse(p.filename)?.arch === arch,
        );
        if (all.length === 0) return send(404, { error: "Not found" });
        const page = Number(url.searchParams.get("page") ?? "1");
        const items = all.slice((page - 1) * pageSize, page * pageSize).map(summary);
        const headers: Record<string, string> =
          page * pageSize < all.length ? { link: `<${path}?page=${page + 1}>; rel="next"` } : {};
        return send(200, items, headers);
      }
      case "show": {
        const p = packages.find((candidate) => showPath(candidate) === path);
        if (!p) return send(404, { error: "Not found" });
        return send(200, {
          ...summary(p),
          sha256sum: p.sha256,
          indexed: isIndexed(p),
          destroy_url: `/api/v1/repos/${p.repository}/${p.distro}/${p.release}/${p.filename}`,
        });
      }
      case "yank": {
        const [, repository, distro, release, filename] = match;
        const index = packages.findIndex(
          (p) => p.repository === repository && p.distro === distro && p.release === release && p.filename === filename,
        );
        if (index < 0) return send(404, { error: "Not found" });
        packages.splice(index, 1);
        return send(200, {});
      }
    }
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    packages,
    requests,
    aptRequests,
    keyFingerprint: key?.keyId,
    fail: (route, fault, times = 1) => {
      for (let i = 0; i < times; i++) faults.push({ route, fault });
    },
    seed: (pkg) =>
      packages.push({ ...pkg, sha256: createHash("sha256").update(pkg.bytes).digest("hex"), indexed: true }),
    close: () =>
      new Promise((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}
