import { RunError } from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import { GitRepo, removeTempDirs } from "./support/gitRepo";
import { vi } from "vitest";
import { runProgram, useStack, RELEASE_SETTINGS, RELEASE_SIGNING, SECRET_KEYS } from "./support/pulumi";

afterAll(removeTempDirs);

/** A Ralph checkout with releases on ng, a tag as CI would check it out, and a feature branch. */
function ralphCheckout() {
  const repo = GitRepo.init();
  repo.commit("initial");
  repo.tag("20241120.1");
  repo.commit("fix");
  repo.tag("20241121.1");
  repo.commit("more");
  repo.git("branch", "feature/ABC_12");
  return repo;
}

describe("snapshot stack", () => {
  it("declares RalphRelease and exports a snapshot version that never tags latest", async () => {
    const repo = ralphCheckout();
    repo.checkout("feature/ABC_12");
    const { outputs, resources } = await runProgram("snapshot", { source: repo.dir });
    expect(outputs.mode).toBe("snapshot");
    expect(outputs.version).toMatch(/^\d{8}\.\d+-feature-ABC-12-SNAPSHOT$/);
    expect(outputs.imageTags).toEqual([outputs.version]);
    expect(outputs.commit).toBe(repo.git("rev-parse", "HEAD"));
    // No inkpy checkout beside this project: the snapshot leaves inkpy out, and says so.
    expect(outputs.imageRepositories).toEqual({
      ralph: "localhost:5000/allegro/ralph",
      "ralph-static-nginx": "localhost:5000/allegro/ralph-static-nginx",
    });
    expect(outputs.notices).toEqual([expect.stringMatching(/^inkpy left out: no Dockerfile in \.\.\/inkpy/)]);
    expect(resources.filter((r) => r.name.startsWith("ralph-images-inkpy"))).toEqual([]);
    expect(resources.map((r) => r.type)).toContain("ralph:release:RalphRelease");
  });

  it("is a snapshot even on a release tag, and still never tags latest", async () => {
    const repo = ralphCheckout();
    repo.checkout("--detach", "20241121.1");
    const { outputs } = await runProgram("snapshot", { source: repo.dir, imageNamespace: "my-org" });
    // The checkout is a release; the snapshot stack builds it, but the release's tags (its version,
    // `latest`) stay the release stack's.
    expect(outputs.version).toBe("20241121.1");
    expect(outputs.imageTags).toEqual(["20241121.1-SNAPSHOT"]);
    expect((outputs.imageRepositories as Record<string, string>).ralph).toBe("localhost:5000/my-org/ralph");
  });
});

describe("no provider plugin for anything but GitHub", () => {
  it("a release with images, pushes and both deb targets declares only the engine's own and this project's resources", async () => {
    const repo = ralphCheckout();
    repo.checkout("--detach", "20241121.1");
    const { resources } = await runProgram(
      "release",
      {
        source: repo.dir,
        ...RELEASE_SETTINGS,
        debTargets: "packagecloud,aptly",
        aptlyGpgKey: "0123456789ABCDEF",
        githubRelease: "false",
      },
      SECRET_KEYS,
    );
    const custom = resources.filter((r) => !r.type.startsWith("ralph:"));
    expect(custom.some((r) => r.name === "ralph-images-ralph-push")).toBe(true);
    // Every step is ours (the release reads its record from its own resources' state, not a StackReference).
    expect(new Set(custom.map((r) => r.type.split(":")[0]))).toEqual(new Set(["pulumi-nodejs"]));
  });
});

describe("deb-only stack (images false)", () => {
  it("with the host builder declares no Docker resource and no plugin besides Pulumi's own", async () => {
    const repo = ralphCheckout();
    const { outputs, resources } = await runProgram("snapshot", {
      source: repo.dir,
      images: "false",
      builder: "host",
      debTargets: "aptly",
    });
    const custom = resources.filter((r) => !r.type.startsWith("ralph:"));
    expect(custom.map((r) => r.name).sort()).toEqual([
      "ralph-core-aptly-publish",
      "ralph-core-build",
      "ralph-core-verify",
      "ralph-supply-chain-attest",
    ]);
    // Every step is one of this project's dynamic resources: the engine and Node are all it needs.
    expect(new Set(custom.map((r) => r.type.split(":")[0]))).toEqual(new Set(["pulumi-nodejs"]));
    expect(outputs.imageIds).toEqual({});
    // A deb-only stack is attested too: the deb's SBOM and provenance, signed.
    expect(outputs.attestations).toMatchObject({ files: expect.arrayContaining(["provenance.sigstore.json"]) });
    expect(outputs.imageRefs).toEqual({});
    expect(String(outputs.debPath)).toMatch(/ralph-core_.*_amd64\.deb$/);
  });

  it("release: publishes the deb and stops there, with no index wait for an image it does not build", async () => {
    const repo = ralphCheckout();
    repo.checkout("--detach", "20241121.1");
    const { resources } = await runProgram(
      "release",
      { source: repo.dir, images: "false", githubRelease: "false", packagecloudToken: "pc-4711", ...RELEASE_SIGNING },
      SECRET_KEYS,
    );
    const custom = resources.filter((r) => !r.type.startsWith("ralph:")).map((r) => r.name);
    expect(custom).toContain("ralph-core-packagecloud");
    expect(custom).not.toContain("ralph-core-index-poll");
    expect(custom.filter((name) => name.startsWith("ralph-images-"))).toEqual([]);
  });
});

describe("release stack", () => {
  it("releases a detached checkout of a tag on ng, tagging latest", async () => {
    const repo = ralphCheckout();
    const clone = GitRepo.clone(repo, "--branch", "20241121.1");
    const { outputs } = await runProgram("release", { source: clone.dir, ...RELEASE_SETTINGS }, SECRET_KEYS);
    expect(outputs).toMatchObject({
      mode: "release",
      version: "20241121.1",
      debianVersion: "20241121.1",
      debLocations: ["https://packagecloud.io/allegro/ralph"],
      githubReleaseUrl: expect.stringMatching(/\/ralph\/releases\/tag\/20241121\.1$/),
    });
    expect(outputs.imageTags).toEqual(["20241121.1", "latest"]);
    expect((outputs.imageRepositories as Record<string, string>).inkpy).toBe("docker.io/allegro/inkpy");
  });

  it("refuses an untagged commit, naming the commit and the rule, with nothing declared", async () => {
    const repo = ralphCheckout();
    const head = repo.git("rev-parse", "HEAD").slice(0, 12);
    const resources = await useStack("release", { source: repo.dir, ...RELEASE_SETTINGS }, SECRET_KEYS);
    vi.resetModules();
    const run = import("../index");
    await expect(run).rejects.toBeInstanceOf(RunError);
    await expect(run).rejects.toThrow(
      new RegExp(
        `release stack refuses this checkout: HEAD ${head} \\(branch ng\\) carries no release tag\\. .*reachable from the main branch 'ng'`,
      ),
    );
    expect(resources).toEqual([]);
  });

  it("refuses a dirty tree on a release tag", async () => {
    const repo = ralphCheckout();
    repo.checkout("--detach", "20241121.1");
    repo.write("README.md", "local edit\n");
    await expect(runProgram("release", { source: repo.dir, ...RELEASE_SETTINGS }, SECRET_KEYS)).rejects.toThrow(
      /uncommitted changes: README\.md/,
    );
  });

  it("reports every configuration problem at once, before looking at the checkout", async () => {
    const run = runProgram("release", {
      source: "/nonexistent/ralph",
      distribution: "jammy",
      packagecloudToken: "pc-plain-4711",
    });
    await expect(run).rejects.toBeInstanceOf(RunError);
    const message = await run.catch((error: Error) => error.message);
    expect(message).toContain("ralph-release:source: /nonexistent/ralph does not exist");
    expect(message).toContain("ralph-release:distribution:");
    expect(message).toContain("ralph-release:packagecloudToken: is stored in plain text");
    expect(message).toContain("ralph-release:githubToken: is needed");
    expect(message).not.toContain("pc-plain-4711");
  });
});
