/** The registry's HTTP API (Docker Registry v2 / OCI distribution), read the way a client would. */
const MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export class RegistryApi {
  constructor(readonly base = "http://127.0.0.1:5000") {}

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

  /** The image config's labels behind a tag. */
  async labels(repository: string, tag: string): Promise<Record<string, string>> {
    const manifest = (await (
      await fetch(`${this.base}/v2/${repository}/manifests/${tag}`, { headers: { accept: MANIFEST_TYPES } })
    ).json()) as {
      config: { digest: string };
    };
    const config = (await (await fetch(`${this.base}/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as {
      config?: { Labels?: Record<string, string> };
    };
    return config.config?.Labels ?? {};
  }
}
