import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests drive real git, dpkg and (later) containers: give them time, and run files in separate processes
    // so Pulumi's global runtime state (mocks, config) never leaks between files.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Deb and image tests share one container engine, base image and builder tag on 2 cores: one file at a time.
    fileParallelism: false,
    // The JSON report feeds .ci/run's "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
  },
});
