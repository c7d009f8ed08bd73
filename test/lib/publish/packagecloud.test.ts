import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DebCoordinates,
  findPackage,
  type PackagecloudConnection,
  publishDeb,
  yankDeb,
} from "../../../lib/publish/packagecloud";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { type PackagecloudServer, startPackagecloudServer } from "../../support/packagecloudServer";

afterAll(removeTempDirs);

const DEB: DebCoordinates = {
  repository: "allegro/ralph",
  distro: "ubuntu",
  release: "jammy",
  packageName: "ralph-core",
  version: "20261124.1",
  architecture: "amd64",
};
const FILENAME = "ralph-core_20261124.1_amd64.deb";
const FAST = { requestTimeoutMs: 500, deadlineMs: 3_000, initialDelayMs: 100, maxDelayMs: 400 };

let server: PackagecloudServer;
let logLines: string[];
let connection: PackagecloudConnection;

function debFile(bytes = randomBytes(4096)) {
  const path = join(tempDir("ralph-release-pc-"), FILENAME);
  writeFileSync(path, bytes);
  return { path, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** Every failure message, so the token check covers errors as well as logs. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a failure");
}

beforeEach(async () => {
  server = await startPackagecloudServer();
  logLines = [];
  connection = { url: server.url, token: server.token, retry: FAST, log: (line) => logLines.push(line) };
});
afterEach(async () => {
  // Whatever happened, the token appears in no log line.
  expect(logLines.join("\n")).not.toContain(server.token);
  await server.close();
});

const uploads = () => server.requests.filter((r) => r.route === "upload");

describe("publishing a deb to packagecloud", () => {
  it("uploads the file to the distribution's version and reports it published", async () => {
    const deb = debFile();
    const published = await publishDeb(connection, DEB, deb.path, deb.sha256);
    expect(published).toMatchObject({ filename: FILENAME, sha256: deb.sha256, adopted: false, indexed: true });
    expect(server.packages).toHaveLength(1);
    expect(server.packages[0]).toMatchObject({ distro: "ubuntu", release: "jammy", filename: FILENAME });
    expect(server.packages[0].bytes.equals(deb.bytes)).toBe(true);
    expect(uploads()[0].authorization).toBe(`Basic ${Buffer.from(`${server.token}:`).toString("base64")}`);
  });

  it("retries 503 twice with growing delays, then succeeds", async () => {
    server.fail("upload", { status: 503 }, 2);
    const deb = debFile();
    await publishDeb(connection, DEB, deb.path, deb.sha256);
    const attempts = uploads().map((r) => r.at);
    expect(uploads().map((r) => r.status)).toEqual([503, 503, 201]);
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(90);
    expect(attempts[2] - attempts[1]).toBeGreaterThanOrEqual(190);
    expect(logLines.filter((l) => /retry/.test(l))).toHaveLength(2);
  });

  it("gives up at the deadline when packagecloud stays down, saying so", async () => {
    server.fail("distributions", { status: 502 }, 1000);
    const started = Date.now();
    const deb = debFile();
    const down = await failure(publishDeb(connection, DEB, deb.path, deb.sha256));
    expect(down).toMatch(/deadline is reached; last failure: HTTP 502/);
    expect(Date.now() - started).toBeLessThan(FAST.deadlineMs * 2 + 1_000);
    const tries = server.requests.filter((r) => r.route === "distributions").length;
    // 100, 200, 400, 400… ms apart within 3 s: a handful of attempts, not a busy loop.
    expect(tries).toBeGreaterThanOrEqual(4);
    expect(tries).toBeLessThanOrEqual(12);
    expect(server.packages).toHaveLength(0);
  });

  it("refuses a file that changed after it was verified", async () => {
    const deb = debFile();
    const message = await failure(publishDeb(connection, DEB, deb.path, "0".repeat(64)));
    expect(message).toMatch(/changed after it was verified.*nothing was uploaded/);
    expect(server.requests).toHaveLength(0);
  });

  it("times out a request that hangs and retries it", async () => {
    server.fail("upload", { hang: true });
    const deb = debFile();
    const published = await publishDeb(connection, DEB, deb.path, deb.sha256);
    expect(published.adopted).toBe(false);
    expect(logLines.some((l) => /upload: no answer before the request timeout; retry 1/.test(l))).toBe(true);
  });

  it("adopts its own upload when the answer was lost and the retry meets a duplicate", async () => {
    server.fail("upload", { acceptThenReset: true });
    const deb = debFile();
    const published = await publishDeb(connection, DEB, deb.path, deb.sha256);
    expect(published).toMatchObject({ adopted: true, sha256: deb.sha256 });
    expect(uploads().map((r) => r.status)).toEqual([0, 422]);
    expect(server.packages).toHaveLength(1);
  });

  it("adopts a package already published with the same checksum without uploading", async () => {
    const deb = debFile();
    server.seed({
      repository: "allegro/ralph",
      distro: "ubuntu",
      release: "jammy",
      filename: FILENAME,
      bytes: deb.bytes,
    });
    const published = await publishDeb(connection, DEB, deb.path, deb.sha256);
    expect(published.adopted).toBe(true);
    expect(uploads()).toHaveLength(0);
  });

  it("refuses a different file for a published version, before uploading anything", async () => {
    server.seed({
      repository: "allegro/ralph",
      distro: "ubuntu",
      release: "jammy",
      filename: FILENAME,
      bytes: randomBytes(10),
    });
    const deb = debFile();
    const message = await failure(publishDeb(connection, DEB, deb.path, deb.sha256));
    expect(message).toMatch(/already published in allegro\/ralph\/ubuntu\/jammy .* A published version never changes/);
    expect(message).toContain(deb.sha256);
    expect(uploads()).toHaveLength(0);
  });

  it("finds the package on a later page of the version list", async () => {
    const paged = await startPackagecloudServer({ pageSize: 2 });
    try {
      for (const patch of [1, 2, 3, 4, 5]) {
        paged.seed({
          repository: "allegro/ralph",
          distro: "ubuntu",
          release: "jammy",
          filename: `ralph-core_20261120.${patch}_amd64.deb`,
          bytes: Buffer.from(`deb ${patch}`),
        });
      }
      const found = await findPackage(
        { url: paged.url, token: paged.token, retry: FAST },
        { ...DEB, version: "20261120.5" },
      );
      expect(found?.sha256).toBe(createHash("sha256").update("deb 5").digest("hex"));
      expect(paged.requests.filter((r) => r.route === "versions").map((r) => r.status)).toEqual([200, 200, 200]);
    } finally {
      await paged.close();
    }
  });
});

describe("refusals: failing at once with the server's words and the fix, never the token", () => {
  it("401: names packagecloudToken", async () => {
    const deb = debFile();
    const message = await failure(publishDeb({ ...connection, token: "wrong-token" }, DEB, deb.path, deb.sha256));
    expect(message).toMatch(/HTTP 401: \{"error":"Unauthenticated"\}/);
    expect(message).toMatch(/pulumi config set --secret packagecloudToken/);
    expect(message).not.toContain("wrong-token");
    expect(server.requests).toHaveLength(1);
  });

  it("404 repository: names packagecloudRepository", async () => {
    const deb = debFile();
    const message = await failure(publishDeb(connection, { ...DEB, repository: "allegro/nope" }, deb.path, deb.sha256));
    expect(message).toMatch(/upload failed with HTTP 404: .*Repository not found/);
    expect(message).toMatch(/packagecloudRepository/);
    expect(uploads()).toHaveLength(1);
  });

  it("unknown distribution: names the setting and what packagecloud has", async () => {
    const deb = debFile();
    const message = await failure(publishDeb(connection, { ...DEB, release: "hardy" }, deb.path, deb.sha256));
    expect(message).toMatch(/no deb distribution ubuntu\/hardy. Fix: set `distribution`.*ubuntu\/jammy/);
    expect(uploads()).toHaveLength(0);
  });

  it("a server that echoes the token gets it redacted", async () => {
    server.fail("distributions", { status: 400, body: `bad request from ${server.token}` });
    const deb = debFile();
    const message = await failure(publishDeb(connection, DEB, deb.path, deb.sha256));
    expect(message).toContain("bad request from [token]");
    expect(message).not.toContain(server.token);
  });
});

describe("the token goes to packagecloudUrl's origin only", () => {
  /** Another origin that records what reaches it. */
  async function elsewhere() {
    const { createServer } = await import("node:http");
    const seen: { path: string; authorization?: string }[] = [];
    const other = createServer((req, res) => {
      seen.push({ path: req.url ?? "", authorization: req.headers.authorization });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((listening) => other.listen(0, "127.0.0.1", listening));
    const address = other.address() as import("node:net").AddressInfo;
    return { url: `http://127.0.0.1:${address.port}`, seen, close: () => new Promise((c) => other.close(c)) };
  }

  it("a package URL on another origin, a yank redirected there: refused, naming both origins; the token never sent", async () => {
    const other = await elsewhere();
    const hostile = await startPackagecloudServer({ packageUrlOrigin: other.url });
    try {
      const to = { ...connection, url: hostile.url, token: hostile.token };
      const deb = debFile();
      hostile.seed({ ...DEB, filename: FILENAME, bytes: deb.bytes });
      expect(await failure(findPackage(to, DEB))).toBe(
        `packagecloud package lookup: the request names ${other.url}, not ${hostile.url} (packagecloudUrl); the token is not sent there and nothing is done. Fix: check packagecloudUrl; if packagecloud moved, set it to the new address.`,
      );
      hostile.fail("yank", { redirectTo: other.url });
      expect(await failure(yankDeb(to, DEB))).toContain(`packagecloud yank: was redirected to ${other.url}`);
      expect(other.seen).toEqual([]);
    } finally {
      await hostile.close();
      await other.close();
    }
  });

  it("a 503 with Retry-After waits as long as packagecloud asks", async () => {
    const deb = debFile();
    server.fail("upload", { status: 503, retryAfterSeconds: 1 });
    await publishDeb(connection, DEB, deb.path, deb.sha256);
    expect(logLines.find((line) => line.includes("HTTP 503"))).toMatch(/retry 1 in 1000 ms$/);
  });
});

describe("yanking", () => {
  it("removes the package; yanking one already gone is fine", async () => {
    const deb = debFile();
    await publishDeb(connection, DEB, deb.path, deb.sha256);
    await yankDeb(connection, DEB);
    expect(server.packages).toHaveLength(0);
    await yankDeb(connection, DEB);
    expect(await findPackage(connection, DEB)).toBeUndefined();
  });
});
