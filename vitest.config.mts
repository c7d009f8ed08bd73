import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Files that use the container engine, the registry on 127.0.0.1:5000/5001 or the real Pulumi engine:
 * they share builder tags, registry repositories and the machine's 2 cores, so they run one at a time
 * (test/support/serialLane.ts: a lock each holds for its whole run), beside the other lanes' files.
 * test/support refuses those resources to a file of another lane (requireLane). The longest first.
 */
export const SERIAL_FILES = [
  "test/index.engine.test.ts",
  "test/cli/release.engine.test.ts",
  "test/cli/stack.engine.test.ts",
  "test/cli/doctor.test.ts",
  "test/readme.test.ts",
  "test/lib/deb/build.test.ts",
  "test/lib/deb/builder.test.ts",
  "test/lib/images/build.test.ts",
  "test/lib/images/publish.test.ts",
  "test/lib/images/adopt.test.ts",
  "test/lib/images/entrypoint.test.ts",
  "test/lib/publish/aptly.test.ts",
  "test/lib/runner.test.ts",
  "test/lib/supply/imageContents.test.ts",
  "test/lib/supply/referrers.test.ts",
  "test/lib/supply/verify.test.ts",
];

/**
 * Ralph's real tree built from PyPI: minutes of downloads and one C compile, with a builder tag and
 * base image no other file uses, so it runs beside the serial lane rather than after it.
 */
export const REAL_TREE_FILES = ["test/lib/deb/build.ralph.test.ts"];

/**
 * The order files start in, two workers taking them: Ralph's real tree and the longest serial file
 * side by side, then the parallel lane's while that serial file runs, then the other serial files.
 */
class LaneSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const file = spec.moduleId.slice(spec.project.config.root.length + 1);
      if (REAL_TREE_FILES.includes(file)) return 0;
      if (file === SERIAL_FILES[0]) return 1;
      return SERIAL_FILES.includes(file) ? 3 + SERIAL_FILES.indexOf(file) : 2;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

const shared = {
  // Tests drive real git, dpkg and containers: give them time, and run files in separate processes so
  // Pulumi's global runtime state (mocks, config) never leaks between files.
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: "forks" as const,
  // vitest runs the files of a project of one worker after every other project's: two, shared.
  maxWorkers: 2,
};

export default defineConfig({
  test: {
    // The lanes share two workers: the serial lane's containers wait on the network and the disk much
    // of the time, which the other lanes fill.
    projects: [
      {
        test: {
          ...shared,
          name: "serial",
          include: SERIAL_FILES,
          setupFiles: ["test/support/serialLane.ts"],
          env: { RALPH_RELEASE_TEST_LANE: "serial" },
        },
      },
      {
        test: {
          ...shared,
          name: "real-tree",
          include: REAL_TREE_FILES,
          env: { RALPH_RELEASE_TEST_LANE: "real-tree" },
        },
      },
      {
        test: {
          ...shared,
          name: "parallel",
          include: ["test/**/*.test.ts"],
          exclude: [...SERIAL_FILES, ...REAL_TREE_FILES],
          env: { RALPH_RELEASE_TEST_LANE: "parallel" },
        },
      },
    ],
    maxWorkers: 2,
    sequence: { sequencer: LaneSequencer },
    // The JSON report feeds .ci/run's table and its "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
  },
});
