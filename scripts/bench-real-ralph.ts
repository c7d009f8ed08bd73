/**
 * Build times of ralph-core from Ralph's real tree (shared/ralph/ralph.bundle, 20241023.1) on
 * debian/bullseye with the README's settings, its requirements from PyPI. Prints figures; asserts
 * nothing. Takes a quarter of an hour or more.
 *
 *   npx tsx scripts/bench-real-ralph.ts   (needs .ci/containers.sh's engine and bullseye image)
 *
 * cold:  builder image from scratch + deb build (pip downloads and compiles every pin) + gate
 * warm:  `pulumi up` with nothing changed: the fingerprint matches, so nothing rebuilds
 * edit:  one source file changed: deb build + gate with the builder image reused
 */
import { execFileSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { buildFingerprint, type DebBuildRequest, workingTreeId } from "../lib/deb/build";
import { buildBuilderImage, PROJECT_DIR, useContainerEngine } from "../test/support/containers";
import { removeTempDirs, tempDir } from "../test/support/gitRepo";
import { BUNDLE_ON_BULLSEYE, BUNDLE_RELEASE, cloneRalph } from "../test/support/ralphBundle";
import { buildAndVerify } from "./debGate";
import { timed } from "./timed";

const BULLSEYE = BUNDLE_ON_BULLSEYE;

async function main() {
  useContainerEngine();
  const ralph = cloneRalph();
  const frontendAssets = tempDir();
  const builderImage = await timed("cold: bullseye builder image (no cache)", () => {
    execFileSync(
      "docker",
      ["image", "rm", "--force", "localhost/ralph-release/deb-builder:test-debian-bullseye-extra"],
      {
        stdio: "ignore",
      },
    );
    return buildBuilderImage(BULLSEYE);
  });
  const request = (): DebBuildRequest => ({
    source: ralph.dir,
    commit: ralph.git("rev-parse", "HEAD"),
    treeId: workingTreeId(ralph.dir),
    debianVersion: BUNDLE_RELEASE,
    version: BUNDLE_RELEASE,
    distribution: BULLSEYE.distribution,
    pythonMinimum: BULLSEYE.pythonMinimum,
    nodeMinimum: "22.0.0",
    pipArgs: BULLSEYE.pipArgs,
    frontendAssets,
    extraBuildDepends: BULLSEYE.extraBuildDepends,
    extraDepends: BULLSEYE.extraDepends,
    debianDir: `${PROJECT_DIR}/debian`,
    outDir: tempDir(),
    builderImage,
  });
  const gate = (r: DebBuildRequest) =>
    buildAndVerify(r, { checkerImage: builderImage, installImage: BULLSEYE.baseImage });
  await timed("cold: deb build (pip from PyPI) + verification gate", () => gate(request()));
  const before = await timed("warm: fingerprint, nothing changed (no rebuild)", () =>
    buildFingerprint(request(), builderImage),
  );
  console.log(
    `${"warm: fingerprint unchanged".padEnd(56)} ${String(before === buildFingerprint(request(), builderImage)).padStart(8)}`,
  );
  appendFileSync(`${ralph.dir}/src/ralph/__init__.py`, "# edited\n");
  await timed("edit: one file changed, deb build + gate", () => gate(request()));
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(removeTempDirs);
