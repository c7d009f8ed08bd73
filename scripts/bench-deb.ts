/**
 * Cold and warm build times of the ralph-core deb on a Ralph-shaped fixture, with the same library
 * calls the DebPackage component's commands make. Prints figures; asserts nothing.
 *
 *   npx tsx scripts/bench-deb.ts        (needs .ci/containers.sh's engine, or DOCKER_HOST)
 *
 * cold:  builder image from scratch (--no-cache) + deb build + verification gate
 * warm:  `pulumi up` with nothing changed: the fingerprint matches, so nothing rebuilds
 * edit:  one source file changed: deb build + gate with the builder image reused
 *
 *   npx tsx scripts/bench-deb.ts --elsewhere
 *
 * the deb build + gate (builder image cached) on the local engine, then on one that cannot see this
 * machine's files (podman in a mount namespace of its own, test/support/engineElsewhere.ts)
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { buildFingerprint, type DebBuildRequest, workingTreeId } from "../lib/deb/build";
import { BASE_IMAGE, buildBuilderImage, useContainerEngine } from "../test/support/containers";
import { stopEngineElsewhere, useEngineElsewhere } from "../test/support/engineElsewhere";
import { removeTempDirs, tempDir } from "../test/support/gitRepo";
import { ralphFixtureRepo } from "../test/support/ralphFixture";
import { buildAndVerify } from "./debGate";
import { timed } from "./timed";

async function main() {
  useContainerEngine();
  const repo = ralphFixtureRepo();
  const request = (): DebBuildRequest => ({
    source: repo.dir,
    commit: repo.git("rev-parse", "HEAD"),
    treeId: workingTreeId(repo.dir),
    debianVersion: "20241124.1",
    distribution: "debian/bookworm",
    pythonMinimum: "3.10",
    nodeMinimum: "22.0.0",
    pipArgs: ["--no-index", "--no-build-isolation"],
    debianDir: join(__dirname, "..", "debian"),
    outDir: tempDir(),
  });
  if (process.argv.includes("--elsewhere")) {
    const builderImage = buildBuilderImage();
    const gate = (r: DebBuildRequest) => buildAndVerify(r, { checkerImage: builderImage, installImage: BASE_IMAGE });
    await timed("local engine: deb build + verification gate", () => gate({ ...request(), builderImage }));
    useEngineElsewhere();
    await timed("engine elsewhere: deb build + verification gate", () => gate({ ...request(), builderImage }));
    stopEngineElsewhere();
    removeTempDirs();
    return;
  }
  execFileSync("docker", ["image", "rm", "--force", "localhost/ralph-release/deb-builder:test-debian-bookworm"], {
    stdio: "ignore",
  });
  const builderImage = await timed("cold: builder image (no cache)", () => buildBuilderImage());
  const gate = (r: DebBuildRequest) => buildAndVerify(r, { checkerImage: builderImage, installImage: BASE_IMAGE });
  await timed("cold: deb build + verification gate", () => gate({ ...request(), builderImage }));
  const before = await timed("warm: fingerprint, nothing changed (no rebuild)", () =>
    buildFingerprint({ ...request(), builderImage }, builderImage),
  );
  const again = buildFingerprint({ ...request(), builderImage }, builderImage);
  console.log(`${"warm: fingerprint unchanged".padEnd(52)} ${String(before === again).padStart(8)}`);
  await timed("warm: builder image, cached", () => buildBuilderImage());
  repo.write("src/ralph/importer.py", "# edited\n");
  await timed("edit: one file changed, deb build + gate", () => gate({ ...request(), builderImage }));
  removeTempDirs();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
