/**
 * Ralph's real tree at its release, built as the README says: its requirements from PyPI, on
 * debian/bullseye. A file of its own so that it runs beside the serial lane (vitest.config.mts): most
 * of its minutes are PyPI's downloads and one C compile, and its builder tag is its own.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDeb, type DebBuildRequest, workingTreeId } from "../../../lib/deb/build";
import { DebVerificationError, verifyDeb } from "../../../lib/deb/verify";
import { readDebContents } from "../../../lib/supply/debContents";
import { debSbomContents, parseSbom, renderSbom } from "../../../lib/supply/sbom";
import { buildBuilderImage, PROJECT_DIR, useContainerEngine } from "../../support/containers";
import { type GitRepo, removeTempDirs, tempDir } from "../../support/gitRepo";
import { BUNDLE_ON_BULLSEYE, BUNDLE_RELEASE, cloneRalph } from "../../support/ralphBundle";

afterAll(removeTempDirs);

/** Paths inside a deb. */
const debContents = (path: string) =>
  execFileSync("dpkg-deb", ["--contents", path], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });

const BULLSEYE = BUNDLE_ON_BULLSEYE;

describe("Ralph's real tree (20241023.1) on debian/bullseye, its requirements from PyPI", () => {
  let ralph: GitRepo;
  let builderImage: string;
  let frontendAssets: string;
  beforeAll(() => {
    useContainerEngine();
    ralph = cloneRalph();
    builderImage = buildBuilderImage(BULLSEYE);
    // Ralph's own front end needs bower's GitHub sources: supplied pre-built instead (here: empty).
    frontendAssets = tempDir();
  }, 1_800_000);

  const request = (overrides: Partial<DebBuildRequest> = {}): DebBuildRequest => ({
    source: ralph.dir,
    commit: ralph.git("rev-parse", "HEAD"),
    treeId: workingTreeId(ralph.dir),
    debianVersion: BUNDLE_RELEASE,
    version: BUNDLE_RELEASE,
    nodeMinimum: "22.0.0",
    debianDir: join(PROJECT_DIR, "debian"),
    outDir: tempDir(),
    builderImage,
    distribution: BULLSEYE.distribution,
    pythonMinimum: BULLSEYE.pythonMinimum,
    extraBuildDepends: BULLSEYE.extraBuildDepends,
    extraDepends: BULLSEYE.extraDepends,
    pipArgs: BULLSEYE.pipArgs,
    frontendAssets,
    ...overrides,
  });

  it("under pip's own resolver its pins conflict, and the failure names them and the way past", async () => {
    await expect(buildDeb(request({ pipArgs: [] }))).rejects.toThrow(
      /^pip: Ralph's pins conflict under pip's resolver \(The user requested [\w.-]+==[\d.]+; .*openstacksdk 1\.5\.0 depends on .*\)\. .*set pipArgs to --use-deprecated=legacy-resolver/,
    );
  }, 1_800_000);

  it("builds with the README's settings, the venv holding Ralph's pins; the gate refuses it: Ralph 20241023.1 does not run on Python 3.9", async () => {
    const artifact = await buildDeb(request());
    const contents = debContents(artifact.path);
    for (const pin of [
      "Django-2.0.13",
      "Pillow-6.2.2",
      "mysqlclient-1.3.13",
      "djangorestframework-3.7.5",
      "pbr-1.8.1",
    ]) {
      expect(contents, pin).toMatch(new RegExp(`site-packages/${pin.replaceAll(".", "\\.")}\\.dist-info/`));
    }
    expect(contents).toMatch(/site-packages\/ralph\/settings\/prod\.py/);
    // Its SBOM (CycloneDX, from the file): the pins with their licences and pip's file hashes.
    const sha256 = createHash("sha256").update(readFileSync(artifact.path)).digest("hex");
    const sbom = parseSbom(renderSbom(debSbomContents(readDebContents(artifact.path), sha256, "debian"), "debian"));
    const listed = new Map(sbom.python.map((d) => [`${d.name}-${d.version}`, d]));
    for (const pin of ["Django-2.0.13", "Pillow-6.2.2", "mysqlclient-1.3.13", "djangorestframework-3.7.5"])
      expect(listed.get(pin)?.files.length, pin).toBeGreaterThan(0);
    expect(listed.get("Django-2.0.13")?.license).toBe("BSD");
    expect(sbom.depends?.map((d) => d.name)).toEqual(expect.arrayContaining(["python3", "libjpeg62-turbo", "zlib1g"]));
    // Installed into clean bullseye, Django sets up and imports Ralph's apps, and then Ralph's data
    // importer fails on Python >= 3.8 (a metaclass that drops __classcell__): nothing is published.
    const gate = verifyDeb({
      debPath: artifact.path,
      expected: artifact,
      checkerImage: builderImage,
      installImage: BULLSEYE.baseImage,
    });
    await expect(gate).rejects.toBeInstanceOf(DebVerificationError);
    await expect(gate).rejects.toThrow(
      /- installs into a clean \S+bullseye and ralph runs:[\s\S]*django\/apps\/registry\.py[\s\S]*ralph\/assets\/admin\.py[\s\S]*RuntimeError: __class__ not set defining 'BaseObjectsSupportRichResource'/,
    );
  }, 1_800_000);
});
