import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireLane } from "./containers";
/** The registry's HTTP API (Docker Registry v2 / OCI distribution), read the way a client would. */
const MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export class RegistryApi {
  constructor(readonly base = "http://127.0.0.1:5000") {
    requireLane(`the registry at ${base}`);
  }

  async tags(repository: string): Promise<string[]> {
    const response = await fetch(`${this.base}/v2/${repository}/tags/list`);
    if (response.status === 404) return [];
    const body = (await response.json()) as { tags?: string[] | null };
    return [...(body.tags ?? [])].sort();
  }

  /** The manifest digest a tag points at. */
  async digest(repository: string, tag: string): Promise<string> {
    const response = await fetch(`${this.base}/v2/${repository}/manifests/${tag}`, {
      method: "HEAD",
      headers: { accept: MANIFEST_TYPES },
    });
    if (!response.ok) throw new Error(`${repository}:${tag}: HTTP ${response.status}`);
    return response.headers.get("docker-content-digest") ?? "";
  }

  /** The image config behind a tag. */
  private async imageConfig(repository: string, tag: string): Promise<ImageConfig> {
    const manifest = (await (
      await fetch(`${this.base}/v2/${repository}/manifests/${tag}`, { headers: { accept: MANIFEST_TYPES } })
    ).json()) as {
      config: { digest: string };
    };
    return (await (await fetch(`${this.base}/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as ImageConfig;
  }

  /** The image config's labels behind a tag. */
  async labels(repository: string, tag: string): Promise<Record<string, string>> {
    return (await this.imageConfig(repository, tag)).config?.Labels ?? {};
  }

  /** `<os>/<architecture>` of the image behind a tag, as its config says. */
  async platform(repository: string, tag: string): Promise<string> {
    const config = await this.imageConfig(repository, tag);
    return `${config.os}/${config.architecture}`;
  }
}

interface ImageConfig {
  readonly os?: string;
  readonly architecture?: string;
  readonly config?: { readonly Labels?: Record<string, string> };
}

/** The access log of the registry .ci/containers.sh serves on 127.0.0.1:5000. */
export const REGISTRY_LOG = "/var/log/ralph-release-registry.log";

/** How many manifests were PUT to `repository` (any tag) so far: a push writes one per tag. */
export function manifestPuts(repository: string, log = REGISTRY_LOG): number {
  const pattern = `"PUT /v2/${repository}/manifests/`;
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line.includes(pattern)).length;
}

/** How many times a tag of `repository` was written (manifest PUTs by tag, not by digest). */
export function tagPuts(repository: string, tags: readonly string[], log = REGISTRY_LOG): number {
  const lines = readFileSync(log, "utf8").split("\n");
  return tags.reduce(
    (sum, tag) => sum + lines.filter((l) => l.includes(`"PUT /v2/${repository}/manifests/${tag} `)).length,
    0,
  );
}

/** The tags of `repository` in the order they were written (manifest PUTs by tag). */
export function tagPutOrder(repository: string, log = REGISTRY_LOG): string[] {
  const pattern = new RegExp(`"PUT /v2/${repository}/manifests/([^ ]+) `);
  return readFileSync(log, "utf8")
    .split("\n")
    .flatMap((line) => pattern.exec(line)?.[1] ?? [])
    .filter((reference) => !reference.startsWith("sha256:"));
}

export interface LoginRegistry {
  /** `127.0.0.1:5001` */
  readonly address: string;
  readonly username: string;
  readonly password: string;
  readonly log: string;
  close(): void;
}

/**
 * A second registry that requires a login (htpasswd), on 127.0.0.1:5001, which .ci/containers.sh
 * tells podman to speak plain HTTP to. Its storage and log are the test's own.
 */
export async function startLoginRegistry(): Promise<LoginRegistry> {
  requireLane("the registry at 127.0.0.1:5001");
  const dir = mkdtempSync(join(tmpdir(), "ralph-release-login-registry-"));
  const [username, password] = ["releasebot", `pw-${Date.now()}`];
  const hash = execFileSync("htpasswd", ["-nbB", username, password], { encoding: "utf8" }).trim();
  writeFileSync(join(dir, "htpasswd"), `${hash}\n`);
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "storage:",
      `  filesystem: { rootdirectory: ${dir}/data }`,
      "http:",
      "  addr: 127.0.0.1:5001",
      "auth:",
      `  htpasswd: { realm: ralph-release-test, path: ${dir}/htpasswd }`,
      "",
    ].join("\n"),
  );
  const log = join(dir, "access.log");
  const out = openSync(log, "a");
  const server = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", out, out] });
  for (let attempt = 0; attempt < 50; attempt++) {
    const status = await fetch("http://127.0.0.1:5001/v2/").then(
      (r) => r.status,
      () => 0,
    );
    if (status === 401) break;
    await new Promise((done) => setTimeout(done, 200));
  }
  return {
    address: "127.0.0.1:5001",
    username,
    password,
    log,
    close: () => {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A registry in front of the local one that refuses what `refuses` picks: a registry failing mid-release. */
export interface FaultyRegistry {
  /** `127.0.0.1:<port>`: what the stack's `registry` names. */
  readonly host: string;
  /** Requests refused so far, as `METHOD path`. */
  readonly refused: string[];
  close(): Promise<void>;
}

/**
 * Forwards every request to the registry on 127.0.0.1:5000 (bodies streamed, the Host header kept so
 * upload locations name this proxy), except the ones `refuses` picks: those get a 500 and never
 * reach it, so its access log shows only what was written. Port 5002 is listed as plain HTTP for
 * podman in .ci/containers.sh.
 */
export async function startFaultyRegistry(refuses: (method: string, path: string) => boolean): Promise<FaultyRegistry> {
  requireLane("the faulty registry on 127.0.0.1:5002");
  const http = await import("node:http");
  const refused: string[] = [];
  const server = http.createServer((request, response) => {
    const method = request.method ?? "GET";
    const path = request.url ?? "/";
    if (refuses(method, path)) {
      refused.push(`${method} ${path}`);
      request.resume();
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: "injected fault" }] }));
      return;
    }
    const upstream = http.request(
      { host: "127.0.0.1", port: 5000, method, path, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(5002, "127.0.0.1", resolve));
  return {
    host: "127.0.0.1:5002",
    refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
