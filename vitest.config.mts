import { defineConfig } from "vitest/config";

/**
 * Files that use the container engine, the registry on 127.0.0.1:5000/5001 or the real Pulumi engine:
 * they share builder tags, registry repositories and the machine's 2 cores, so they run one at a time.
 * test/support refuses those resources to a file of another lane (requireLane).
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
  "test/lib/publish/aptly.test.ts",
  "test/lib/supply/imageContents.test.ts",
  "test/lib/supply/referrers.test.ts",
  "test/lib/supply/verify.test.ts",
];

/**
 * Ralph's real tree built from PyPI: minutes of downloads and one C compile, with a builder tag and
 * base image no other file uses, so it runs beside the serial lane rather than after it.
 */
export const REAL_TREE_FILES = ["test/lib/deb/build.ralph.test.ts"];

const shared = {
  // Tests drive real git, dpkg and containers: give them time, and run files in separate processes so
  // Pulumi's global runtime state (mocks, config) never leaks between files.
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    // The lanes run side by side, one worker each: the serial lane's containers wait on the network
    // and the disk much of the time, which the other lanes fill.
    projects: [
      {
        test: {
          ...shared,
          name: "serial",
          include: SERIAL_FILES,
          fileParallelism: false,
          env: { RALPH_RELEASE_TEST_LANE: "serial" },
        },
      },
      {
        test: {
          ...shared,
          name: "real-tree",
          include: REAL_TREE_FILES,
          maxWorkers: 1,
          env: { RALPH_RELEASE_TEST_LANE: "real-tree" },
        },
      },
      {
        test: {
          ...shared,
          name: "parallel",
          include: ["test/**/*.test.ts"],
          exclude: [...SERIAL_FILES, ...REAL_TREE_FILES],
          // vitest runs projects of one group side by side only with the same number of workers.
          maxWorkers: 1,
          env: { RALPH_RELEASE_TEST_LANE: "parallel" },
        },
      },
    ],
    // The JSON report feeds .ci/run's table and its "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
  },
});
