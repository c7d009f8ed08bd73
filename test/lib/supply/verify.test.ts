import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as CDX from "@cyclonedx/cyclonedx-library";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { attest, type AttestRequest, type AttestResult } from "../../../lib/supply/attest";
import { signChecksums, SUMS_KEY } from "../../../lib/supply/checksums";
import { FILES } from "../../../lib/supply/files";
import { artifactDirFor, type CheckLine, verifyRelease, type VerifyOptions } from "../../../lib/supply/verify";
import { serveDirectory, signingKey } from "../../support/aptRepo";
import { BASE_IMAGE, docker, PROJECT_DIR, useContainerEngine } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { identityToken, type MockSigstore, startMockSigstore } from "../../support/sigstore";

const REGISTRY = "127.0.0.1:5000";
const VERSION = "20241124.1";
const WORKFLOW = `https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/${VERSION}`;
const FORK = WORKFLOW.replace("allegro/ralph", "someone/ralph");

afterAll(removeTempDirs);

/** ralph-core with a venv of two distributions, as RECORD files list them; `marker` makes another build. */
function venvDeb(dir: string, marker: string): string {
  const root = tempDir("ralph-release-venvdeb-");
  const site = join(root, "opt/ralph/ralph-core/lib/python3.11/site-packages");
  for (const [name, version] of [
    ["ralph", "3.0.0"],
    ["Django", "4.2.16"],
  ]) {
    const info = join(site, `${name}-${version}.dist-info`);
    mkdirSync(join(site, name.toLowerCase()), { recursive: true });
    mkdirSync(info, { recursive: true });
    const source = `# ${name} ${marker}\n`;
    writeFileSync(join(site, name.toLowerCase(), "__init__.py"), source);
    writeFileSync(
      join(info, "METADATA"),
      `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nLicense: BSD-3-Clause\n`,
    );
    const hash = Buffer.from(execFileSync("sha256sum", ["-b", "-"], { input: source }).toString().slice(0, 64), "hex");
    writeFileSync(
      join(info, "RECORD"),
      `${name.toLowerCase()}/__init__.py,sha256=${hash.toString("base64url")},${source.length}\n${name}-${version}.dist-info/RECORD,,\n`,
    );
  }
  mkdirSync(join(root, "DEBIAN"));
  writeFileSync(
    join(root, "DEBIAN/control"),
    `Package: ralph-core\nVersion: ${VERSION}\nArchitecture: amd64\nMaintainer: Test <t@example.invalid>\n` +
      "Depends: python3 (>= 3.11), libmariadb3\nDescription: test\n",
  );
  const path = join(dir, `ralph-core_${VERSION}_amd64.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", root, path], { stdio: "ignore" });
  return path;
}

/** A small image of its own, pushed as `<namespace>/ralph:<version>`; returns its local id and pushed ref. */
async function pushedImage(namespace: string, marker: string) {
  const context = tempDir("ralph-release-image-");
  writeFileSync(join(context, "Dockerfile"), `FROM ${BASE_IMAGE}\nLABEL build.marker=${marker}\n`);
  const tag = `${REGISTRY}/${namespace}/ralph:${VERSION}`;
  await docker("build", "--quiet", "--tag", tag, context);
  await docker("push", "--quiet", tag);
  const localId = await docker("image", "inspect", "--format", "{{.Id}}", tag);
  const digest = execFileSync("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${tag}`])
    .toString()
    .trim();
  return { tag, localId, pushedRef: `${REGISTRY}/${namespace}/ralph@${digest}` };
}

function attestRequest(dir: string, debPath: string, image: { localId: string; pushedRef: string }, namespace: string) {
  return {
    artifactDir: dir,
    debPath,
    distro: "debian",
    images: [
      {
        name: "ralph",
        repository: `${REGISTRY}/${namespace}/ralph`,
        localId: image.localId,
        pushedRef: image.pushedRef,
        venvs: [],
      },
    ],
    provenance: {
      ralph: {
        repository: "https://github.com/allegro/ralph",
        commit: "c".repeat(40),
        version: VERSION,
        ref: `refs/tags/${VERSION}`,
      },
      config: { distribution: "debian/bookworm", registry: REGISTRY },
      stack: "release",
    },
    baseImages: [{ role: "baseImage", reference: BASE_IMAGE }],
    projectDir: PROJECT_DIR,
    sigstore: { fulcioUrl: "http://127.0.0.1:9/unused", rekorUrl: "http://127.0.0.1:9/unused" },
  } satisfies AttestRequest;
}

const failing = (lines: CheckLine[]) => lines.filter((line) => !line.ok).map((line) => line.check);
const copyOf = (dir: string) => {
  const copy = tempDir("ralph-release-tampered-");
  cpSync(dir, copy, { recursive: true });
  return copy;
};

describe("a build's supply chain: signed, attached, verified; each tampering fails its own line", () => {
  const namespace = `supply${Date.now()}`;
  let dir = "";
  let result: AttestResult;
  let gpg: { gnupgHome: string; keyId: string };
  let trustedKey = "";
  let image: Awaited<ReturnType<typeof pushedImage>>;
  const verify = (options: Partial<VerifyOptions> = {}) =>
    verifyRelease({
      dir,
      version: VERSION,
      gpgKeyFile: trustedKey,
      sigstoreKeyFile: join(dir, FILES.sigstoreKey),
      ...options,
    });

  const gnupgHome = process.env.GNUPGHOME;
  afterAll(() => {
    if (gnupgHome === undefined) delete process.env.GNUPGHOME;
    else process.env.GNUPGHOME = gnupgHome;
  });

  beforeAll(async () => {
    useContainerEngine();
    gpg = signingKey();
    process.env.GNUPGHOME = gpg.gnupgHome;
    trustedKey = join(tempDir(), "aptly.asc");
    writeFileSync(trustedKey, execFileSync("gpg", ["--armor", "--export", gpg.keyId]));
    dir = tempDir("ralph-release-artifacts-");
    image = await pushedImage(namespace, "a");
    const request = { ...attestRequest(dir, venvDeb(dir, "a"), image, namespace), gpgKey: gpg.keyId };
    result = await attest(request, { env: {} }, () => undefined);
  }, 300_000);

  it("writes SBOMs, provenance and bundles, lists them all in SHA256SUMS, and everything verifies", async () => {
    expect(result.sigstoreSigning).toBe("throw-away key");
    expect(result.checksumsSigning).toBe(gpg.keyId);
    const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8");
    for (const file of [`ralph-core_${VERSION}_amd64.deb`, `ralph-core_${VERSION}_amd64.cdx.json`, "ralph.cdx.json"])
      expect(sums).toContain(`  ${file}\n`);
    expect(sums).toContain(FILES.provenanceBundle);
    const sbom = JSON.parse(readFileSync(join(dir, result.debSbom), "utf8"));
    expect(sbom.components.map((c: { purl: string }) => c.purl)).toEqual(
      expect.arrayContaining(["pkg:pypi/django@4.2.16", "pkg:pypi/ralph@3.0.0", "pkg:deb/debian/libmariadb3"]),
    );
    // Valid CycloneDX 1.6, by the schema (CycloneDX's own validator).
    const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
    for (const file of [result.debSbom, "ralph.cdx.json"])
      expect([file, await validator.validate(readFileSync(join(dir, file), "utf8"))]).toEqual([file, null]);
    const provenance = JSON.parse(readFileSync(join(dir, FILES.provenance), "utf8"));
    const head = execFileSync("git", ["-C", PROJECT_DIR, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const baseImageId = (await docker("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE)).trim();
    expect(provenance.predicate.buildDefinition.resolvedDependencies).toEqual(
      expect.arrayContaining([
        { uri: `git+https://github.com/allegro/ralph@refs/tags/${VERSION}`, digest: { gitCommit: "c".repeat(40) } },
        expect.objectContaining({ uri: "git+https://github.com/allegro/ralph-release", digest: { gitCommit: head } }),
        // Debootstrapped here, so no registry digest: the engine's id, and the provenance says so.
        {
          uri: `docker-image://${BASE_IMAGE}`,
          digest: { sha256: baseImageId.replace(/^sha256:/, "") },
          annotations: { role: "baseImage", digestFrom: "local image id" },
        },
      ]),
    );
    expect(provenance.subject.map((s: { name: string }) => s.name)).toEqual([
      `ralph-core_${VERSION}_amd64.deb`,
      `${REGISTRY}/${namespace}/ralph`,
    ]);
    const lines = await verify();
    expect(failing(lines)).toEqual([]);
    expect(lines.map((l) => l.check)).toEqual(
      expect.arrayContaining([
        "signature SHA256SUMS.asc",
        `image ${REGISTRY}/${namespace}/ralph:${VERSION}`,
        "bundle ralph",
        "sbom ralph",
        `sbom ralph-core_${VERSION}_amd64.cdx.json`,
      ]),
    );
    expect(result.attached.ralph).toMatch(/^sha256:/);
    expect(lines.find((l) => l.check === "bundle ralph")?.detail).toContain(
      `attached ${result.attached.ralph.slice(0, 19)}`,
    );
  });

  it("one changed byte in the deb: its sum, the provenance and the SBOM fail", async () => {
    const copy = copyOf(dir);
    const deb = join(copy, `ralph-core_${VERSION}_amd64.deb`);
    const bytes = readFileSync(deb);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(deb, bytes);
    const failed = failing(await verify({ dir: copy }));
    expect(failed).toContain(`sha256 ralph-core_${VERSION}_amd64.deb`);
    expect(failed).toContain(`provenance ralph-core_${VERSION}_amd64.deb`);
    expect(failed).not.toContain("signature SHA256SUMS.asc");
  });

  it("an SBOM swapped for another build's: its sum and the SBOM check fail", async () => {
    const other = tempDir("ralph-release-other-");
    const otherImage = await pushedImage(`${namespace}other`, "other");
    await attest(
      attestRequest(other, venvDeb(other, "other"), otherImage, `${namespace}other`),
      { env: {} },
      () => undefined,
    );
    const copy = copyOf(dir);
    cpSync(join(other, result.debSbom), join(copy, result.debSbom));
    const lines = await verify({ dir: copy });
    expect(failing(lines)).toEqual([`sha256 ${result.debSbom}`, `sbom ${result.debSbom}`]);
    expect(lines.find((l) => l.check === `sbom ${result.debSbom}`)?.detail).toMatch(
      /has another hash|describes sha256/,
    );
  }, 300_000);

  it("SHA256SUMS re-signed by another key: the signature line fails", async () => {
    const copy = copyOf(dir);
    const other = signingKey();
    signChecksums(copy, other);
    expect(failing(await verify({ dir: copy }))).toEqual(["signature SHA256SUMS.asc"]);
    // With the key written beside it, only integrity is shown: the same files pass.
    expect(failing(await verify({ dir: copy, gpgKeyFile: join(copy, SUMS_KEY) }))).toEqual([]);
  });

  it("a swapped deb, attested again with new keys put beside it: fails without an anchor, with the release's GPG key, with its Sigstore key", async () => {
    const forged = copyOf(dir);
    const deb = venvDeb(forged, "forged");
    await attest({ ...attestRequest(forged, deb, image, namespace) }, { env: {} }, () => undefined);
    // What the old release notes told users to run: every check passed.
    const unanchored = await verifyRelease({ dir: forged, version: VERSION });
    expect(unanchored.find((l) => l.check === "trust anchor")).toMatchObject({ ok: false });
    expect(unanchored.find((l) => l.check === "trust anchor")?.detail).toMatch(/^no trust anchor: keys beside a build/);
    expect(failing(await verifyRelease({ dir: forged, version: VERSION, gpgKeyFile: trustedKey }))).toContain(
      "signature SHA256SUMS.asc",
    );
    const releaseKey = join(tempDir(), "release.pub");
    cpSync(join(dir, FILES.sigstoreKey), releaseKey);
    // The image is the release's, and so is a bundle attached to it: only the forged provenance fails.
    expect(failing(await verifyRelease({ dir: forged, version: VERSION, sigstoreKeyFile: releaseKey }))).toContain(
      `signature ${FILES.provenanceBundle}`,
    );
    // The release's GPG key alone vouches for the Sigstore key SHA256SUMS lists: the real build passes.
    const byGpg = await verifyRelease({ dir, version: VERSION, gpgKeyFile: trustedKey });
    expect(failing(byGpg)).toEqual([]);
    expect(byGpg.find((l) => l.check === `signature ${FILES.provenanceBundle}`)?.detail).toBe(
      `good, key ${FILES.sigstoreKey}, listed in SHA256SUMS signed by --gpg-key`,
    );
  }, 300_000);

  it("another version asked for, a corrupt provenance or trusted root: failing lines, never a stack trace", async () => {
    const otherVersion = await verify({ version: "20241124.2" });
    expect(failing(otherVersion)).toContain("provenance version");
    expect(otherVersion.find((l) => l.check === "provenance version")?.detail).toBe(
      `the provenance is of ${VERSION}, 20241124.2 was asked for`,
    );
    const copy = copyOf(dir);
    writeFileSync(join(copy, FILES.provenance), "{ not json");
    writeFileSync(join(copy, FILES.provenanceBundle), "{ not json");
    const lines = await verify({ dir: copy });
    expect(failing(lines)).toEqual([
      `sha256 ${FILES.provenance}`,
      `sha256 ${FILES.provenanceBundle}`,
      `signature ${FILES.provenanceBundle}`,
      `provenance ${FILES.provenance}`,
    ]);
    const root = join(tempDir(), "trusted_root.json");
    writeFileSync(root, "<html>");
    const keyless = await verify({ sigstoreKeyFile: undefined, identity: "x", trustedRootFile: root });
    expect(keyless.find((l) => l.check === `signature ${FILES.provenanceBundle}`)?.detail).toMatch(
      /^--trusted-root trusted_root.json is not readable JSON/,
    );
  });

  it("a forged SHA256SUMS naming paths out of the directory or a pipe, a forged provenance naming another registry: failing lines, nothing read outside, no credentials sent", async () => {
    const copy = copyOf(dir);
    execFileSync("mkfifo", [join(copy, "fifo")]);
    const sums = readFileSync(join(copy, "SHA256SUMS"), "utf8");
    writeFileSync(join(copy, "SHA256SUMS"), `${sums}${"0".repeat(64)}  ../../etc/hostname\n${"0".repeat(64)}  fifo\n`);
    const evil = await serveDirectory(tempDir());
    const statement = JSON.parse(readFileSync(join(copy, FILES.provenance), "utf8"));
    statement.subject.push({
      name: `${evil.url.replace("http://", "")}/evil/ralph`,
      digest: { sha256: "e".repeat(64) },
    });
    writeFileSync(join(copy, FILES.provenance), JSON.stringify(statement));
    // Its bundle broken too: only the plain, forged statement is left to read.
    writeFileSync(join(copy, FILES.provenanceBundle), "{}");
    try {
      const lines = await verify({
        dir: copy,
        gpgKeyFile: undefined,
        registryLogin: { username: "me", password: "s3cret-registry-pw" },
      });
      expect(lines.find((l) => l.check === "sha256 ../../etc/hostname")?.detail).toBe(
        "not a plain file name of this directory",
      );
      expect(lines.find((l) => l.check === "sha256 fifo")?.detail).toBe("not a regular file");
      expect(failing(lines)).toContain(`image ${evil.url.replace("http://", "")}/evil/ralph`);
      expect(evil.requested).toEqual([]);
    } finally {
      await evil.close();
    }
  });

  it("bundles checked against another Sigstore key: both bundle lines fail", async () => {
    const { throwAwayKey } = await import("../../../lib/supply/sigstore");
    const keyFile = join(tempDir(), "other.pub");
    writeFileSync(keyFile, throwAwayKey().publicKeyPem);
    expect(failing(await verify({ sigstoreKeyFile: keyFile }))).toEqual([
      `signature ${FILES.provenanceBundle}`,
      "bundle ralph",
    ]);
  });

  it("the image's version tag moved to another digest: the image line fails", async () => {
    const copy = copyOf(dir);
    await pushedImage(namespace, "moved");
    const lines = await verify({ dir: copy });
    expect(failing(lines)).toEqual([`image ${REGISTRY}/${namespace}/ralph:${VERSION}`]);
    expect(lines.find((l) => !l.ok)?.detail).toContain(image.pushedRef.split("@")[1]);
  }, 300_000);
});

describe("keyless: bundles carry the CI's identity (mock Fulcio and Rekor on loopback)", () => {
  let sigstore: MockSigstore;
  const namespace = `keyless${Date.now()}`;
  let dir = "";
  let trustedRoot = "";

  beforeAll(async () => {
    useContainerEngine();
    sigstore = await startMockSigstore();
    trustedRoot = join(tempDir(), "trusted_root.json");
    writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRoot));
    dir = tempDir("ralph-release-keyless-");
    const image = await pushedImage(namespace, "keyless");
    process.env.SIGSTORE_ID_TOKEN = identityToken(WORKFLOW, undefined, {
      repository: "allegro/ralph",
      ref: `refs/tags/${VERSION}`,
    });
    const request = { ...attestRequest(dir, venvDeb(dir, "keyless"), image, namespace), sigstore };
    const result = await attest(request, { env: process.env }, () => undefined);
    delete process.env.SIGSTORE_ID_TOKEN;
    expect(result.sigstoreSigning).toBe("keyless");
  }, 300_000);
  afterAll(() => sigstore.close());

  it("verify for the workflow's identity; a bundle made for another identity fails both bundle lines", async () => {
    const options = { dir, version: VERSION, trustedRootFile: trustedRoot };
    expect(failing(await verifyRelease({ ...options, identity: WORKFLOW }))).toEqual([]);
    expect(sigstore.requests.filter((r) => r === "/api/v1/log/entries")).toHaveLength(2);
    const lines = await verifyRelease({ ...options, identity: FORK });
    // Its provenance unverified, the images it names are not asked of any registry.
    expect(failing(lines)).toEqual([`signature ${FILES.provenanceBundle}`, `image ${REGISTRY}/${namespace}/ralph`]);
  });
});

describe("npm run verify <version> finds the build", () => {
  it("by its directory, or, for a snapshot, by the version its provenance names; else says how to make one", () => {
    const build = tempDir("ralph-release-build-");
    const snapshot = "20261126.1-feature-ABC-12-SNAPSHOT";
    for (const [dir, version] of [
      ["20241124.1", "20241124.1"],
      ["20261126.1~feature.ABC.12.SNAPSHOT.3", snapshot],
    ]) {
      mkdirSync(join(build, dir));
      const statement = { predicate: { buildDefinition: { externalParameters: { version } } } };
      writeFileSync(join(build, dir, FILES.provenance), JSON.stringify(statement));
    }
    expect(artifactDirFor(build, "20241124.1")).toBe(join(build, "20241124.1"));
    expect(artifactDirFor(build, snapshot)).toBe(join(build, "20261126.1~feature.ABC.12.SNAPSHOT.3"));
    expect(() => artifactDirFor(build, "20241124.2")).toThrow(
      `No attested build of 20241124.2 in ${build}. Fix: run the pipeline for it (npm run up), give the directory with --dir, or check a GitHub release's assets with --github <owner/repo>.`,
    );
  });

  it("a directory with nothing attested fails each check it cannot make, and says so", async () => {
    const lines = await verifyRelease({ dir: tempDir("ralph-release-empty-"), version: VERSION });
    expect(failing(lines)).toEqual(["trust anchor", "sha256 SHA256SUMS", `signature ${FILES.provenanceBundle}`]);
    expect(lines[2].detail).toBe("missing");
  });
});
