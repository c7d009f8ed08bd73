/**
 * Artifacts attached to an image in its registry, the OCI 1.1 way cosign's bundle format uses: an
 * artifact manifest whose `subject` is the image, found through the referrers API, or, where the
 * registry has none (distribution 2.x), through the referrers tag `sha256-<hex>` holding an index.
 * Our own small client: @sigstore/oci 0.7 cannot sign in to a registry that needs no login (it
 * takes the 202 of its probe for a challenge). No Pulumi.
 */
import { createHash } from "node:crypto";
import type { RegistryLogin } from "../images/registry";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

const digestOf = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const describe = (mediaType: string, data: Buffer): Descriptor => ({
  mediaType,
  digest: digestOf(data),
  size: data.length,
});

/** A loopback `host[:port]`: the only place plain HTTP is spoken (tests' registries). */
const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

/** `host[:port]/path` → the registry's base URL (plain HTTP on loopback only) and the repository. */
export function splitRepository(repository: string): { baseUrl: string; path: string } {
  const slash = repository.indexOf("/");
  const host = repository.slice(0, slash);
  const loopback = LOOPBACK.test(host);
  return { baseUrl: `${loopback ? "http" : "https"}://${host}`, path: repository.slice(slash + 1) };
}

export class OciRepository {
  private readonly baseUrl: string;
  private readonly path: string;
  private authorization?: string;

  constructor(
    repository: string,
    private readonly login?: RegistryLogin,
  ) {
    ({ baseUrl: this.baseUrl, path: this.path } = splitRepository(repository));
  }

  /** One request; on a 401, answers the registry's Basic or Bearer challenge once and retries. */
  private async send(method: string, url: string, init: { headers?: Record<string, string>; body?: Buffer } = {}) {
    const attempt = () =>
      fetch(url.startsWith("http") ? url : `${this.baseUrl}${url}`, {
        method,
        headers: { ...init.headers, ...(this.authorization ? { Authorization: this.authorization } : {}) },
        body: init.body,
        redirect: "follow",
      });
    let response = await attempt();
    if (response.status === 401 && !this.authorization) {
      this.authorization = await this.answer(response.headers.get("www-authenticate") ?? "");
      response = await attempt();
    }
    return response;
  }

  private async answer(challenge: string): Promise<string> {
    const basic =
      this.login && `Basic ${Buffer.from(`${this.login.username}:${this.login.password}`).toString("base64")}`;
    if (/^basic/i.test(challenge)) {
      if (!basic) throw new Error(`${this.baseUrl} asks for a login and none is configured`);
      return basic;
    }
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) throw new Error(`${this.baseUrl} sent a challenge this client does not know: ${challenge}`);
    const url = new URL(params.realm);
    // The login goes to a token service over https only (plain http to loopback, for tests' registries).
    const loopbackRealm = url.protocol === "http:" && LOOPBACK.test(url.host);
    if (url.protocol !== "https:" && !loopbackRealm)
      throw new Error(
        `${this.baseUrl} names its token service ${url.origin}, not https: the registry login is not sent there. ` +
          "Fix: check the registry (registry); a real one's token service is https.",
      );
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", `repository:${this.path}:pull,push`);
    const response = await fetch(url, { headers: basic ? { Authorization: basic } : {} });
    if (!response.ok) throw new Error(`the registry's token service refused (${response.status})`);
    const body = (await response.json()) as { token?: string; access_token?: string };
    return `Bearer ${body.token ?? body.access_token}`;
  }

  private async must(response: Response, what: string): Promise<Response> {
    if (response.ok) return response;
    const detail = (await response.text()).slice(0, 300);
    throw new Error(`${what} in ${this.baseUrl}/${this.path}: ${response.status} ${detail}`.trim());
  }

  async uploadBlob(mediaType: string, data: Buffer): Promise<Descriptor> {
    const descriptor = describe(mediaType, data);
    const head = await this.send("HEAD", `/v2/${this.path}/blobs/${descriptor.digest}`);
    if (head.ok) return descriptor;
    const started = await this.must(await this.send("POST", `/v2/${this.path}/blobs/uploads/`), "starting an upload");
    const location = new URL(started.headers.get("location") ?? "", `${this.baseUrl}/`);
    location.searchParams.set("digest", descriptor.digest);
    await this.must(
      await this.send("PUT", location.href, {
        headers: { "Content-Type": "application/octet-stream" },
        body: data,
      }),
      "uploading a blob",
    );
    return descriptor;
  }

  async putManifest(reference: string, mediaType: string, manifest: object): Promise<Descriptor> {
    const body = Buffer.from(JSON.stringify(manifest));
    await this.must(
      await this.send("PUT", `/v2/${this.path}/manifests/${reference}`, {
        headers: { "Content-Type": mediaType },
        body,
      }),
      `putting manifest ${reference}`,
    );
    return describe(mediaType, body);
  }

  /** The manifest, or undefined when the registry has none by that reference. */
  async getManifest(reference: string): Promise<{ mediaType: string; body: Record<string, unknown> } | undefined> {
    const response = await this.send("GET", `/v2/${this.path}/manifests/${reference}`, {
      headers: { Accept: [OCI_MANIFEST, OCI_INDEX, "application/vnd.docker.distribution.manifest.v2+json"].join(",") },
    });
    if (response.status === 404) return undefined;
    await this.must(response, `reading manifest ${reference}`);
    return {
      mediaType: response.headers.get("content-type") ?? "",
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  async getBlob(digest: string): Promise<Buffer> {
    const response = await this.must(
      await this.send("GET", `/v2/${this.path}/blobs/${digest}`),
      `reading blob ${digest}`,
    );
    const data = Buffer.from(await response.arrayBuffer());
    if (digestOf(data) !== digest) throw new Error(`blob ${digest} came back with other content`);
    return data;
  }

  /** The manifest descriptor of `reference` as the registry serves it now. */
  async resolve(reference: string): Promise<Descriptor> {
    const response = await this.must(
      await this.send("HEAD", `/v2/${this.path}/manifests/${reference}`, {
        headers: {
          Accept: [OCI_MANIFEST, OCI_INDEX, "application/vnd.docker.distribution.manifest.v2+json"].join(","),
        },
      }),
      `resolving ${reference}`,
    );
    return {
      mediaType: response.headers.get("content-type") ?? "",
      digest: response.headers.get("docker-content-digest") ?? "",
      size: Number(response.headers.get("content-length") ?? 0),
    };
  }

  private async referrersApi(subject: string): Promise<Descriptor[] | undefined> {
    const response = await this.send("GET", `/v2/${this.path}/referrers/${subject}`, {
      headers: { Accept: OCI_INDEX },
    });
    if (!response.ok || !(response.headers.get("content-type") ?? "").includes(OCI_INDEX)) return undefined;
    return ((await response.json()) as { manifests?: Descriptor[] }).manifests ?? [];
  }

  /** What refers to `subject` (a manifest digest), through the referrers API or its tag. */
  async referrers(subject: string): Promise<Descriptor[]> {
    const listed = await this.referrersApi(subject);
    if (listed) return listed;
    const index = await this.getManifest(subject.replace(":", "-"));
    return ((index?.body.manifests as Descriptor[] | undefined) ?? []).slice();
  }

  /** Attaches `data` to the image `subject`; returns the artifact manifest's descriptor. */
  async attach(
    subject: Descriptor,
    artifactType: string,
    data: Buffer,
    annotations: Record<string, string>,
  ): Promise<Descriptor> {
    const config = await this.uploadBlob(OCI_EMPTY, Buffer.from("{}"));
    const layer = await this.uploadBlob(artifactType, data);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    };
    const body = Buffer.from(JSON.stringify(manifest));
    const artifact: Descriptor = { ...describe(OCI_MANIFEST, body), artifactType, annotations };
    await this.putManifest(artifact.digest, OCI_MANIFEST, manifest);
    if (await this.referrersApi(subject.digest)) return artifact;
    // No referrers API: keep the referrers tag's index, as the OCI distribution spec's fallback says.
    const tag = subject.digest.replace(":", "-");
    const existing = ((await this.getManifest(tag))?.body.manifests as Descriptor[] | undefined) ?? [];
    if (!existing.some((d) => d.digest === artifact.digest))
      await this.putManifest(tag, OCI_INDEX, {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [...existing, artifact],
      });
    return artifact;
  }
}
