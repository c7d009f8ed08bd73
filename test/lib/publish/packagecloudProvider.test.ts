import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { bundledProvider } from "../../support/bundledProvider";
import { PROJECT_DIR } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { type PackagecloudServer, startPackagecloudServer } from "../../support/packagecloudServer";

afterAll(removeTempDirs);

type Provider = ReturnType<typeof bundledProvider>["provider"];

let server: PackagecloudServer;
let provider: Provider;
let bundleText: string;

function inputs(bytes: Buffer, overrides: Record<string, unknown> = {}) {
  const debPath = join(tempDir("ralph-release-deb-"), "ralph-core_20261124.1_amd64.deb");
  writeFileSync(debPath, bytes);
  return {
    url: server.url,
    repository: "allegro/ralph",
    distro: "ubuntu",
    release: "jammy",
    packageName: "ralph-core",
    version: "20261124.1",
    architecture: "amd64",
    debPath,
    projectDir: "/nowhere",
    sha256: createHash("sha256").update(bytes).digest("hex"),
    token: server.token,
    yankOnDelete: false,
    retry: { requestTimeoutMs: 500, deadlineMs: 2_000, initialDelayMs: 50, maxDelayMs: 200 },
    ...overrides,
  };
}

beforeAll(() => {
  ({ provider, text: bundleText } = bundledProvider({
    path: "lib/publish/packagecloudProvider.ts",
    exportName: "packagecloudProvider",
  }));
});
beforeEach(async () => {
  server = await startPackagecloudServer();
});
afterEach(() => server.close());

describe("PackagecloudPackage's provider, bundled as `pulumi up` bundles it", () => {
  it("is self-contained code: Node built-ins by require, ralph-release's own code inlined, no paths of this machine", () => {
    expect(bundleText).toContain("package[package_file]");
    const required = [...bundleText.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !isBuiltin(name))).toEqual([]);
    expect(bundleText).not.toContain(PROJECT_DIR);
  });

  it("create uploads, read shows, delete keeps a release package", async () => {
    const props = inputs(randomBytes(2048));
    const created = await provider.create(props);
    expect(created.id).toBe("allegro/ralph/ubuntu/jammy/ralph-core_20261124.1_amd64.deb");
    expect(created.outs).toMatchObject({
      filename: "ralph-core_20261124.1_amd64.deb",
      adopted: false,
      sha256: props.sha256,
    });
    expect(server.packages).toHaveLength(1);

    const read = await provider.read(created.id, created.outs);
    expect(read.props.sha256).toBe(props.sha256);

    await provider.delete(created.id, created.outs);
    expect(server.packages).toHaveLength(1);
  });

  it("delete yanks a snapshot package; read then reports it gone", async () => {
    const created = await provider.create(inputs(randomBytes(100), { yankOnDelete: true }));
    await provider.delete(created.id, created.outs);
    expect(server.packages).toHaveLength(0);
    expect(await provider.read(created.id, created.outs)).toEqual({});
  });

  it("a release's package yanked by hand: refresh records it, and the next up refuses to send it again", async () => {
    const props = inputs(randomBytes(100));
    const created = await provider.create(props);
    // A maintainer yanks it (through the API, as the snapshot's delete does).
    await provider.delete(created.id, { ...created.outs, yankOnDelete: true });
    const read = await provider.read(created.id, created.outs);
    expect(read).toMatchObject({ id: created.id, props: { yanked: true } });
    // A preview shows it as an update; the update refuses it.
    expect(await provider.diff(created.id, read.props!, props)).toMatchObject({ changes: true, replaces: [] });
    await expect(provider.update!(created.id, read.props, props)).rejects.toThrow(
      /ralph-core_20261124\.1_amd64\.deb was yanked from allegro\/ralph\/ubuntu\/jammy after this stack published it.*release a new version.*pulumi state delete/s,
    );
    expect(server.requests.filter((r) => r.route === "upload")).toHaveLength(1);
  });

  it("diff: same file is no change; new version replaces; a new file for the same version is refused", async () => {
    const props = inputs(randomBytes(100));
    const { outs } = await provider.create(props);
    expect(await provider.diff("id", outs, props)).toMatchObject({ changes: false, replaces: [] });
    expect(await provider.diff("id", outs, { ...props, version: "20261124.2" })).toMatchObject({
      changes: true,
      replaces: ["version"],
    });
    expect(await provider.diff("id", outs, { ...props, token: "rotated" })).toMatchObject({
      changes: true,
      replaces: [],
    });
    // A new file for the same version shows as an update (a preview still runs); the update refuses it.
    const rebuilt = { ...props, sha256: "e".repeat(64) };
    expect(await provider.diff("id", outs, rebuilt)).toMatchObject({ changes: true, replaces: [] });
    await expect(provider.update!("id", outs, rebuilt)).rejects.toThrow(
      /ralph-core_20261124.1_amd64.deb is published in allegro\/ralph\/ubuntu\/jammy .* never changes/,
    );
    // So does the file replaced on packagecloud by hand, once a refresh read it: named, then refused.
    const replacedByHand = { ...outs, sha256: "f".repeat(64) };
    expect(await provider.diff("id", replacedByHand, props)).toMatchObject({ changes: true });
    await expect(provider.update!("id", replacedByHand, props)).rejects.toThrow(/with sha256 f{64}; this build is/);
    expect(server.requests.filter((r) => r.route === "upload")).toHaveLength(1);
  });

  it("an up re-run after a lost answer adopts the package instead of failing", async () => {
    server.fail("upload", { acceptThenReset: true });
    const created = await provider.create(inputs(randomBytes(100)));
    expect(created.outs.adopted).toBe(true);
    expect(server.packages).toHaveLength(1);
  });

  it("a bad token fails create with the fix and without the token", async () => {
    const error = await provider.create(inputs(randomBytes(10), { token: "leaked-if-shown" })).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/HTTP 401.*packagecloudToken/s);
    expect((error as Error).message).not.toContain("leaked-if-shown");
  });
});
