import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  downloadRelease,
  type GithubReleaseRequest,
  publishRelease,
  readRelease,
  uploadOrigin,
} from "../../../lib/github/releaseClient";
import { type GithubServer, startGithubServer } from "../../support/githubServer";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const FILES = ["ralph-core_20241124.1_amd64.deb", "provenance.intoto.json", "provenance.sigstore.json"];

/** A build directory with its SHA256SUMS, as the attest step leaves it; `marker` makes another build of the attestations. */
function artifactDir(marker = "a"): string {
  const dir = tempDir("ralph-release-gh-");
  const contents: Record<string, string> = {
    [FILES[0]]: "the deb\n",
    [FILES[1]]: `{"provenance":"${marker}"}\n`,
    [FILES[2]]: `{"bundle":"${marker}"}\n`,
  };
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
  const sums = Object.entries(contents).map(([name, text]) => `${sha256(text)}  ${name}\n`);
  writeFileSync(join(dir, "SHA256SUMS"), sums.sort().join(""));
  writeFileSync(join(dir, "SHA256SUMS.asc"), `signature over ${marker}\n`);
  return dir;
}

/** A contract server of its own, and the step's calls against it: the cases run side by side. */
async function contract() {
  const server = await startGithubServer();
  servers.push(server);
  const log: string[] = [];
  const request = (dir: string, extra: Partial<GithubReleaseRequest> = {}): GithubReleaseRequest => ({
    apiUrl: server.url,
    repository: "allegro/ralph",
    tag: "20241124.1",
    commit: "c".repeat(40),
    title: "Ralph 20241124.1",
    notes: "Artifacts: the deb",
    artifactDir: dir,
    files: [...FILES, "SHA256SUMS", "SHA256SUMS.asc"],
    debFile: FILES[0],
    retryBaseMs: 5,
    ...extra,
  });
  const writes = () =>
    server.requests
      .filter((r) => r.method !== "GET")
      .map((r) => `${r.route} ${r.status}${r.body?.draft === false ? " publish" : ""}`);
  const publish = (req: GithubReleaseRequest, previous?: Parameters<typeof publishRelease>[2]) =>
    publishRelease(req, server.token, previous, (line) => log.push(line));
  return { server, log, request, writes, publish };
}
const servers: GithubServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

// GitHub asks for a second between writes, and the client keeps to it: the cases run side by side.
describe.concurrent("the GitHub release step against the contract server", () => {
  it("drafts the release, uploads every asset once through 5xx and a secondary rate limit, publishes last", async () => {
    const { server, log, request, writes, publish } = await contract();
    const dir = artifactDir();
    server.fail("upload-asset", { status: 502 });
    server.fail("upload-asset", { secondaryRateLimit: true, retryAfterSeconds: 1 });
    const result = await publish(request(dir));
    const [release] = server.releases;
    expect(release).toMatchObject({
      tag_name: "20241124.1",
      draft: false,
      prerelease: false,
      name: "Ralph 20241124.1",
    });
    expect(release.body).toContain("Artifacts: the deb");
    expect(release.assets.map((a) => a.name).sort()).toEqual([...FILES, "SHA256SUMS", "SHA256SUMS.asc"].sort());
    // Retried writes, then one successful write each; the publish comes after every upload.
    expect(writes()).toEqual([
      "create-release 201",
      "upload-asset 502",
      "upload-asset 403",
      ...Array(5).fill("upload-asset 201"),
      "update-release 200 publish",
    ]);
    expect(log.join("\n")).toContain("secondary rate limit");
    expect(result.uploaded).toHaveLength(5);
    expect(result.assets[FILES[0]]).toBe(sha256("the deb\n"));
    expect(server.requests.every((r) => r.authorized)).toBe(true);

    // Run again: nothing to write.
    const before = server.requests.length;
    const again = await publish(request(dir), result);
    expect(again.uploaded).toEqual([]);
    expect(server.requests.slice(before).filter((r) => r.method !== "GET")).toEqual([]);
    expect(await readRelease(request(dir), server.token, again)).toBeUndefined();
  });

  it("dies after two uploads; the re-run uploads only the rest, then publishes; an answer lost after an upload is no second upload", async () => {
    const { server, request, writes, publish } = await contract();
    const dir = artifactDir();
    // The third upload fails past every retry (four attempts): the run dies, the draft holds two assets.
    server.fail("upload-asset", { status: 500 }, 4, 2);
    await expect(publish(request(dir))).rejects.toThrow(/GitHub: uploading \S+ failed \(500: Server Error\)/);
    const [release] = server.releases;
    expect(release.draft).toBe(true);
    expect(release.assets).toHaveLength(2);
    const uploadedFirst = release.assets.map((a) => a.name);

    // The re-run has no record (the run died): the two are known by their bytes. GitHub takes the
    // next upload but its answer is lost: the retry finds it there (422) and goes on.
    server.fail("upload-asset", { acceptThenFail: true });
    const writesBefore = writes().length;
    const result = await publish(request(dir));
    expect([...result.uploaded].sort()).toEqual(
      [...FILES, "SHA256SUMS", "SHA256SUMS.asc"].filter((name) => !uploadedFirst.includes(name)).sort(),
    );
    expect(release.assets.map((a) => a.name).sort()).toEqual([...FILES, "SHA256SUMS", "SHA256SUMS.asc"].sort());
    expect(release.draft).toBe(false);
    expect(writes().slice(writesBefore)).toEqual([
      "upload-asset 502",
      "upload-asset 422",
      "upload-asset 201",
      "upload-asset 201",
      "update-release 200 publish",
    ]);
    expect(writes().filter((w) => w === "create-release 201")).toHaveLength(1);
  });

  it("a create whose answer is lost is not made twice: the draft GitHub made is found and used; two drafts not ours are refused", async () => {
    const { server, request, publish } = await contract();
    server.fail("create-release", { acceptThenFail: true });
    await publish(request(artifactDir()));
    expect(server.releases).toHaveLength(1);
    expect(server.requests.filter((r) => r.route === "create-release").map((r) => r.status)).toEqual([502]);
    expect(server.releases[0].draft).toBe(false);

    const other = await contract();
    const twice = {
      tag_name: "20241124.1",
      target_commitish: "ng",
      name: "x",
      body: "",
      draft: true,
      prerelease: false,
    };
    const [a, b] = [other.server.seedRelease(twice), other.server.seedRelease(twice)];
    await expect(other.publish(other.request(artifactDir()))).rejects.toThrow(
      `allegro/ralph has 2 releases of tag 20241124.1 (ids ${b.id}, ${a.id}), and which one is this version's is not clear.`,
    );
  });

  it("adopts a maintainer's draft pre-release: its title, text and pre-release kept, the artifact section added", async () => {
    const { server, log, request, publish } = await contract();
    server.seedRelease({
      tag_name: "20241124.1",
      target_commitish: "ng",
      name: "Ralph 20241124.1: the DC release",
      body: "Hand-written highlights.",
      draft: true,
      prerelease: true,
    });
    const result = await publish(request(artifactDir()));
    const [release] = server.releases;
    expect(release).toMatchObject({ name: "Ralph 20241124.1: the DC release", draft: false, prerelease: true });
    expect(release.body.startsWith("Hand-written highlights.\n\n<!-- ralph-release:artifacts -->")).toBe(true);
    expect(result).toMatchObject({ adopted: true, prerelease: true, releaseId: release.id });
    expect(log[0]).toBe(`github: adopting the draft of allegro/ralph 20241124.1 (id ${release.id})`);
  });

  it("an asset replaced on GitHub with other bytes: refused, naming it, nothing written; read calls it drift", async () => {
    const { server, request, publish } = await contract();
    const dir = artifactDir();
    const result = await publish(request(dir));
    server.replaceAsset(server.releases[0], FILES[0], Buffer.from("a trojan deb\n"));
    expect(await readRelease(request(dir), server.token, result)).toBe(
      `on the GitHub release of 20241124.1: ${FILES[0]} is sha256 ${sha256("a trojan deb\n")} (published ${sha256("the deb\n")})`,
    );
    const before = server.requests.length;
    await expect(publish(request(dir), result)).rejects.toThrow(
      `${FILES[0]} on the release is sha256 ${sha256("a trojan deb\n").slice(0, 12)}…, this build's is ${sha256("the deb\n").slice(0, 12)}…; this stack uploaded ${sha256("the deb\n").slice(0, 12)}…, so it was replaced on GitHub.`,
    );
    expect(server.requests.slice(before).filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("the published release on a runner that made its attestations again: the published set kept, nothing uploaded", async () => {
    const { server, log, request, publish } = await contract();
    const result = await publish(request(artifactDir("a")));
    const before = server.requests.length;
    const again = await publish(request(artifactDir("b")), result);
    expect(again.uploaded).toEqual([]);
    expect(again.assets).toEqual(result.assets);
    expect(server.requests.slice(before).filter((r) => r.method !== "GET")).toEqual([]);
    expect(log.filter((l) => l.includes("this run made the file again"))).toHaveLength(4);
  });

  it("verify's download: every asset of the published release, its token never sent to storage; a draft is no release", async () => {
    const { server, request, publish } = await contract();
    const dir = artifactDir();
    await publish(request(dir));
    const into = tempDir("ralph-release-gh-download-");
    const names = await downloadRelease(
      { apiUrl: server.url, token: server.token, log: () => undefined },
      "allegro/ralph",
      "20241124.1",
      into,
    );
    expect(names.sort()).toEqual([...FILES, "SHA256SUMS", "SHA256SUMS.asc"].sort());
    // Through the API with the token; the redirect to storage (another origin) carries none.
    expect(server.requests.filter((r) => r.route === "get-asset").every((r) => r.authorized)).toBe(true);
    const stored = server.requests.filter((r) => r.route === "storage");
    expect([stored.length, stored.every((r) => !r.authorized)]).toEqual([5, true]);
    server.releases[0].draft = true;
    await expect(
      downloadRelease({ apiUrl: server.url, log: () => undefined }, "allegro/ralph", "20241124.1", into),
    ).rejects.toThrow("allegro/ralph has no published release of 20241124.1");
  });

  it("a wrong token: one line naming githubToken and the fix", async () => {
    const { request } = await contract();
    await expect(publishRelease(request(artifactDir()), "wrong", undefined, () => undefined)).rejects.toThrow(
      /GitHub: listing the releases of allegro\/ralph failed \(401: Bad credentials.*githubToken is refused/,
    );
  });
});

describe("uploadOrigin: the token goes to GitHub's uploads host or the API's host only", () => {
  it("github.com's, a GitHub Enterprise Server's, loopback for tests; anything else refused", () => {
    expect(
      uploadOrigin("https://api.github.com", "https://uploads.github.com/repos/a/b/releases/1/assets{?name,label}"),
    ).toBe("https://uploads.github.com");
    expect(
      uploadOrigin(
        "https://ghe.example/api/v3",
        "https://ghe.example/api/uploads/repos/a/b/releases/1/assets{?name,label}",
      ),
    ).toBe("https://ghe.example/api/uploads");
    expect(() => uploadOrigin("https://api.github.com", "https://evil.example/repos/a/b/releases/1/assets")).toThrow(
      "GitHub named https://evil.example as the uploads host",
    );
    expect(() =>
      uploadOrigin("https://ghe.example/api/v3", "http://ghe.example/api/uploads/repos/a/b/releases/1/assets"),
    ).toThrow("the token is not sent there");
  });
});
