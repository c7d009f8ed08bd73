import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundledProvider } from "../../support/bundledProvider";
import { PROJECT_DIR } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

const roots = { project: "/work/ralph-release", checkout: "/work/ralph" };
const news = {
  create: "npm run --silent cli -- deb verify",
  variable: "RALPH_DEB_VERIFY",
  request: { debPath: "{project}/build/20241124.1/ralph-core_20241124.1_amd64.deb", installImage: "debian:bookworm" },
  triggers: { debSha256: "a".repeat(64) },
  legacyTriggers: ["debSha256"],
  machine: { roots },
};
// As the provider host runs it: bundled, loaded in a module of its own.
const { provider: pipelineStepProvider } = bundledProvider({
  path: "lib/steps/provider.ts",
  exportName: "pipelineStepProvider",
});
const diff = (olds: unknown, next: unknown = news) => pipelineStepProvider.diff("id", olds, next);

describe("a step's diff", () => {
  it("another clone's roots change nothing; a changed trigger replaces, naming the field's object", async () => {
    const elsewhere = {
      ...news,
      machine: { roots: { project: "/Users/m/ralph-release", checkout: "/Users/m/ralph" } },
    };
    expect(await diff({ ...news, stdout: "[]" }, elsewhere)).toMatchObject({ changes: false, replaces: [] });
    const rebuilt = { ...news, triggers: { debSha256: "b".repeat(64) } };
    expect(await diff({ ...news, stdout: "[]" }, rebuilt)).toMatchObject({ changes: true, replaces: ["triggers"] });
    const changed = { ...news, request: { ...news.request, installImage: "debian:trixie" } };
    expect(await diff({ ...news, stdout: "[]" }, changed)).toMatchObject({ changes: true, replaces: [] });
  });

  it("a stack written before (one type, absolute paths, positional triggers) stays the same on its machine", async () => {
    const legacy = {
      create: news.create,
      dir: roots.project,
      // Written in the program's key order; the engine hands the new request back in its own.
      environment: {
        RALPH_DEB_VERIFY: JSON.stringify({
          installImage: "debian:bookworm",
          debPath: "/work/ralph-release/build/20241124.1/ralph-core_20241124.1_amd64.deb",
        }),
      },
      triggers: ["a".repeat(64)],
      stdout: "[]",
    };
    expect(await diff(legacy)).toMatchObject({ changes: false, replaces: [] });
    expect(await diff({ ...legacy, triggers: ["b".repeat(64)] })).toMatchObject({
      changes: true,
      replaces: ["triggers"],
    });
    const otherBase = { RALPH_DEB_VERIFY: legacy.environment.RALPH_DEB_VERIFY.replace("bookworm", "trixie") };
    expect(await diff({ ...legacy, environment: otherBase })).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("a step's run", () => {
  it("starts this project's CLI itself (node with tsx's loader on cli/main.ts): no npm on PATH, same command stored", async () => {
    const recipe = tempDir();
    writeFileSync(join(recipe, "Dockerfile"), "FROM scratch\n");
    const contextDir = join(tempDir(), "context");
    const inputs = {
      create: "npm run --silent cli -- image stage",
      variable: "RALPH_IMAGE_STAGE",
      request: { recipeDir: recipe, recipeDigest: "-", contextDir },
      machine: { roots: { project: PROJECT_DIR, checkout: recipe } },
      // With npm (or sh's lookup of it) in the way, this PATH would fail the step.
      runtimeEnvironment: { PATH: "/nonexistent" },
    };
    const created = await pipelineStepProvider.create(inputs);
    expect(JSON.parse(created.outs.stdout)).toMatchObject({
      context: contextDir,
      dockerfile: join(contextDir, "Dockerfile"),
    });
    expect(created.outs.create).toBe("npm run --silent cli -- image stage");
  });
});
