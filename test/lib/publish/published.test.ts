import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { aptlyPublicationFor, publishToAptly } from "../../../lib/publish/aptly";
import { publishDeb } from "../../../lib/publish/packagecloud";
import { checkPublishedDeb, PublishedDebError, type PublishedDebRequest } from "../../../lib/publish/published";
import { tinyDeb } from "../../support/aptRepo";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { type PackagecloudServer, startPackagecloudServer } from "../../support/packagecloudServer";

const VERSION = "20261124.1";
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

let server: PackagecloudServer;
beforeAll(async () => {
  server = await startPackagecloudServer();
});
afterAll(async () => {
  await server?.close();
  removeTempDirs();
});

/** A release of VERSION published to aptly and packagecloud, and the request a stack's check would make. */
async function published(debPath: string) {
  const aptlyRoot = tempDir("ralph-release-aptly-");
  await publishToAptly({
    rootDir: aptlyRoot,
    ...aptlyPublicationFor("release", "debian", "bookworm"),
    distro: "debian",
    release: "bookworm",
    debPath,
    sha256: sha256(debPath),
  });
  const coordinates = {
    repository: "allegro/ralph",
    distro: "debian",
    release: "bookworm",
    packageName: "ralph-core",
    version: VERSION,
    architecture: "amd64",
  };
  server.packages.splice(0, server.packages.length);
  await publishDeb({ url: server.url, token: server.token }, coordinates, debPath, sha256(debPath));
  const request: PublishedDebRequest = {
    ...coordinates,
    packagecloud: { url: server.url, repository: "allegro/ralph" },
    aptly: { rootDir: aptlyRoot },
    localDebPath: join(tempDir("ralph-release-build-"), VERSION, `ralph-core_${VERSION}_amd64.deb`),
  };
  return request;
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error) => error,
  );

describe("a release's deb check before the build", () => {
  it("a version no target holds: nothing to say, the build goes ahead", async () => {
    const request = await published(tinyDeb("ralph-core", VERSION));
    expect(await checkPublishedDeb({ ...request, version: "20261124.2" }, { packagecloudToken: server.token })).toEqual(
      {},
    );
  });

  it("the version this stack recorded (its last debSha256): both targets hold it, so later steps adopt it", async () => {
    const deb = tinyDeb("ralph-core", VERSION);
    const request = await published(deb);
    expect(await checkPublishedDeb(request, { packagecloudToken: server.token, recordedSha256: sha256(deb) })).toEqual({
      "packagecloud allegro/ralph/debian/bookworm": sha256(deb),
      [`aptly ${request.aptly?.rootDir}/public/debian (bookworm)`]: sha256(deb),
    });
  });

  it("a fresh state on the machine that built it: the deb kept in build/ is the record", async () => {
    const deb = tinyDeb("ralph-core", VERSION);
    const request = await published(deb);
    mkdirSync(dirname(request.localDebPath), { recursive: true });
    copyFileSync(deb, request.localDebPath);
    expect(await checkPublishedDeb(request, { packagecloudToken: server.token })).toEqual({
      "packagecloud allegro/ralph/debian/bookworm": sha256(deb),
      [`aptly ${request.aptly?.rootDir}/public/debian (bookworm)`]: sha256(deb),
    });
  });

  it("no record anywhere: refused on every target that holds it, with its checksum and the way out", async () => {
    const deb = tinyDeb("ralph-core", VERSION);
    const request = await published(deb);
    const error = await refusal(checkPublishedDeb(request, { packagecloudToken: server.token }));
    expect(error).toBeInstanceOf(PublishedDebError);
    const message = (error as Error).message;
    expect(message).toContain(
      `ralph-core_${VERSION}_amd64.deb is already published on packagecloud allegro/ralph/debian/bookworm with sha256 ${sha256(deb)}, and this stack has no record of building it`,
    );
    expect(message).toContain(`on aptly ${request.aptly?.rootDir}/public/debian (bookworm) with sha256 ${sha256(deb)}`);
    expect(message).toContain("fix: release a new patch version (npm run release-new-version)");
  });

  it("another build recorded: refused naming both checksums", async () => {
    const deb = tinyDeb("ralph-core", VERSION);
    const request = await published(deb);
    const ours = tinyDeb("ralph-core", VERSION, "another build\n");
    mkdirSync(dirname(request.localDebPath), { recursive: true });
    copyFileSync(ours, request.localDebPath);
    const message = String(await refusal(checkPublishedDeb(request, { packagecloudToken: server.token })));
    expect(message).toContain(`with sha256 ${sha256(deb)}, and this stack's deb is ${sha256(ours)}`);
  });

  it("a wrong token is packagecloud's refusal, not an unpublished version", async () => {
    const request = await published(tinyDeb("ralph-core", VERSION));
    const error = await refusal(checkPublishedDeb(request, { packagecloudToken: "wrong" }));
    expect(String(error)).toMatch(/401|token/i);
    expect(String(error)).not.toContain("wrong");
  });
});
