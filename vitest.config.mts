import { defineConfig } from "vitest/config";

/**
 * Files that use the one container engine, the registry on 127.0.0.1:5000/5001 or the real Pulumi
 * engine: they share the machine's 2 cores, its base images and tags, so they run one at a time.
 * test/support refuses those resources to any file not listed here (SERIAL_LANE).
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

const shared = {
  // Tests drive real git, dpkg and containers: give them time, and run files in separate processes so
  // Pulumi's global runtime state (mocks, config) never leaks between files.
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    // The two lanes run side by side: the serial lane's containers wait on the network and the disk
    // much of the time, which the other lane's files fill.
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
          name: "parallel",
          include: ["test/**/*.test.ts"],
          exclude: SERIAL_FILES,
          // One worker beside the serial lane's: 2 cores.
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
