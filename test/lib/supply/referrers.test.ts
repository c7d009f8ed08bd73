import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dockerConfigLogin } from "../../../lib/images/registry";
import { OCI_EMPTY, OCI_MANIFEST, OciRepository } from "../../../lib/supply/referrers";
import { tempDir } from "../../support/gitRepo";
import { type LoginRegistry, startLoginRegistry } from "../../support/registry";

const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";

/** A minimal image (an empty config, one layer) put straight into `repository` as `tag`. */
async function putImage(repository: OciRepository, tag: string) {
  const config = await repository.uploadBlob(OCI_EMPTY, Buffer.from("{}"));
  const layer = await repository.uploadBlob("application/vnd.oci.image.layer.v1.tar", Buffer.from(`layer ${tag}`));
  await repository.putManifest(tag, OCI_MANIFEST, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config,
    layers: [layer],
  });
  return repository.resolve(tag);
}

describe("attachments in a registry that requires a login", () => {
  let registry: LoginRegistry;
  beforeAll(async () => {
    registry = await startLoginRegistry();
  });
  afterAll(() => registry.close());

  it("attaches with the login, finds it again through the referrers tag; refuses without one, naming what is missing", async () => {
    const name = `${registry.address}/allegro/ralph`;
    const repository = new OciRepository(name, { username: registry.username, password: registry.password });
    const image = await putImage(repository, "20241124.1");
    const first = await repository.attach(image, BUNDLE, Buffer.from('{"bundle":1}'), { n: "1" });
    const second = await repository.attach(image, BUNDLE, Buffer.from('{"bundle":2}'), { n: "2" });
    // Distribution 2.8 has no referrers API: both are listed in the sha256-<hex> index, the newest last.
    expect((await repository.referrers(image.digest)).map((d) => d.digest)).toEqual([first.digest, second.digest]);
    const manifest = await repository.getManifest(second.digest);
    expect(manifest?.body).toMatchObject({ artifactType: BUNDLE, subject: { digest: image.digest } });
    const layer = (manifest?.body.layers as { digest: string }[])[0];
    expect((await repository.getBlob(layer.digest)).toString()).toBe('{"bundle":2}');

    await expect(new OciRepository(name).referrers(image.digest)).rejects.toThrow(
      "http://127.0.0.1:5001 asks for a login and none is configured",
    );
    const wrong = new OciRepository(name, { username: registry.username, password: "wrong" });
    await expect(wrong.resolve("20241124.1")).rejects.toThrow(
      /resolving 20241124\.1 in http:\/\/127\.0\.0\.1:5001\/allegro\/ralph: 401/,
    );
  });

  it("without registryUsername, uses the login docker login stored for that registry", async () => {
    const config = tempDir("ralph-release-docker-config-");
    mkdirSync(config, { recursive: true });
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString("base64");
    writeFileSync(join(config, "config.json"), JSON.stringify({ auths: { [registry.address]: { auth } } }));
    const env = { DOCKER_CONFIG: config };
    expect(dockerConfigLogin(registry.address, env)).toEqual({
      username: registry.username,
      password: registry.password,
    });
    expect(dockerConfigLogin("other.example.com", env)).toBeUndefined();
    const repository = new OciRepository(`${registry.address}/allegro/inkpy`, dockerConfigLogin(registry.address, env));
    expect((await putImage(repository, "latest")).digest).toMatch(/^sha256:/);
  });
});

describe("a registry's token service", () => {
  it("over plain http to another host: the login is not sent, and the registry is named", async () => {
    const { createServer } = await import("node:http");
    const tokenRequests: string[] = [];
    const registry = createServer((req, res) => {
      tokenRequests.push(req.url ?? "");
      res
        .writeHead(401, { "www-authenticate": 'Bearer realm="http://auth.example.invalid/token",service="registry"' })
        .end();
    });
    await new Promise<void>((listening) => registry.listen(0, "127.0.0.1", listening));
    const { port } = registry.address() as import("node:net").AddressInfo;
    try {
      const repository = new OciRepository(`127.0.0.1:${port}/allegro/ralph`, { username: "bot", password: "pw-4711" });
      await expect(repository.resolve("20241124.1")).rejects.toThrow(
        `http://127.0.0.1:${port} names its token service http://auth.example.invalid, not https: the registry login is not sent there.`,
      );
      expect(tokenRequests).toHaveLength(1);
    } finally {
      await new Promise((closed) => registry.close(closed));
    }
  });
});
