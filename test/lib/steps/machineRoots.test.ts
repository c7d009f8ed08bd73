import { describe, expect, it } from "vitest";
import { expandPaths, tokenizePaths } from "../../../lib/steps/machineRoots";

const here = { project: "/home/ci/ralph-release", checkout: "/home/ci/ralph-release/../ralph" };
const laptop = { project: "/Users/maintainer/src/ralph-release", checkout: "/Users/maintainer/ralph" };

describe("paths stored from their roots", () => {
  const request = {
    source: "/home/ci/ralph",
    debianDir: "/home/ci/ralph-release/debian",
    outDir: "/home/ci/ralph-release/build",
    files: ["/home/ci/ralph/src/ralph/__init__.py", "/etc/apt/sources.list"],
    nested: { dockerfile: "/home/ci/ralph-release/docker/ralph/Dockerfile" },
    version: "20241124.1",
  };

  it("names every path under a root from it, whatever its depth in the request; other values stay", () => {
    expect(tokenizePaths(request, here)).toEqual({
      source: "{checkout}",
      debianDir: "{project}/debian",
      outDir: "{project}/build",
      files: ["{checkout}/src/ralph/__init__.py", "/etc/apt/sources.list"],
      nested: { dockerfile: "{project}/docker/ralph/Dockerfile" },
      version: "20241124.1",
    });
  });

  it("another machine's roots give the same stored request, and put it back on that machine's paths", () => {
    const elsewhere = expandPaths(tokenizePaths(request, here), laptop);
    expect(elsewhere).toMatchObject({
      source: "/Users/maintainer/ralph",
      outDir: "/Users/maintainer/src/ralph-release/build",
    });
    expect(tokenizePaths(elsewhere, laptop)).toEqual(tokenizePaths(request, here));
  });

  it("a checkout inside the project is named as the checkout; a sibling that shares a prefix is not under a root", () => {
    const inside = { project: "/p", checkout: "/p/ralph" };
    expect(tokenizePaths(["/p/ralph/setup.py", "/p/build", "/p-other/x", "/p"], inside)).toEqual([
      "{checkout}/setup.py",
      "{project}/build",
      "/p-other/x",
      "{project}",
    ]);
  });

  it("a root the run does not have is an error naming it", () => {
    expect(() => expandPaths("{inkpy}/Dockerfile", here)).toThrow(/names the inkpy root/);
  });
});
