import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../lib/config";
import { baseImageDependency, provenanceSettings, provenanceStatement, ralphRef } from "../../../lib/supply/provenance";
import { PROJECT_DIR } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

describe("provenanceSettings", () => {
  it("records what shapes the build and where it goes, never a URL, a path of this machine or a secret", () => {
    const source = tempDir("ralph-release-src-");
    const values = {
      source,
      debTargets: "packagecloud,aptly",
      packagecloudUrl: "https://packagecloud.example",
      aptlyUrl: "https://apt.example.com/ralph",
      aptlyRoot: "/srv/aptly",
      pipArgs: "--index-url=https://pypi.example/simple",
      packagecloudToken: "pc-4711",
    };
    const { settings } = parseConfig({
      stack: "snapshot",
      projectDir: PROJECT_DIR,
      values: Object.fromEntries(Object.entries(values).map(([k, v]) => [`ralph-release:${k}`, v])),
      secretKeys: new Set(["ralph-release:packagecloudToken"]),
    });
    const recorded = JSON.stringify(provenanceSettings(settings));
    for (const absent of [source, PROJECT_DIR, "/srv/aptly", "packagecloud.example", "apt.example.com", "pc-4711"])
      expect([absent, recorded.includes(absent)]).toEqual([absent, false]);
    expect(provenanceSettings(settings)).toMatchObject({
      mode: "snapshot",
      distribution: "ubuntu/jammy",
      deb: { builder: "container", pipArgs: ["--index-url=https://pypi.example/simple"] },
      publish: { debTargets: ["packagecloud", "aptly"], packagecloudRepository: "allegro/ralph-snapshots" },
      signing: { checksums: "throw-away", bundles: "throw-away" },
    });
  });
});

describe("what the provenance says the build was made from", () => {
  const facts = (ralph: Partial<Parameters<typeof provenanceStatement>[0]["ralph"]>) =>
    provenanceStatement({
      subjects: [],
      ralph: { repository: "https://github.com/allegro/ralph", commit: "c".repeat(40), version: "x", ...ralph },
      project: { commit: "p".repeat(40), dirty: false },
      config: {},
      stack: "snapshot",
      startedOn: "",
      finishedOn: "",
    }).predicate.buildDefinition as { resolvedDependencies: unknown[] };

  it("a release is of its tag; a snapshot of its branch (it has no tag of its own); a detached HEAD of its commit only", () => {
    expect(ralphRef({ mode: "release", version: "20241124.1", branch: "ng" })).toBe("refs/tags/20241124.1");
    expect(ralphRef({ mode: "snapshot", version: "20241124.2-feature-SNAPSHOT", branch: "feature" })).toBe(
      "refs/heads/feature",
    );
    expect(ralphRef({ mode: "snapshot", version: "20241124.2-HEAD-SNAPSHOT" })).toBeUndefined();
    expect(facts({ ref: "refs/heads/feature" }).resolvedDependencies[0]).toEqual({
      uri: "git+https://github.com/allegro/ralph@refs/heads/feature",
      digest: { gitCommit: "c".repeat(40) },
    });
    expect(facts({}).resolvedDependencies[0]).toMatchObject({ uri: "git+https://github.com/allegro/ralph" });
  });

  it("a dirty snapshot names the tree it built, not HEAD, and says it was dirty", () => {
    expect(facts({ ref: "refs/heads/feature", dirtyTree: "t".repeat(40) }).resolvedDependencies[0]).toEqual({
      uri: "git+https://github.com/allegro/ralph@refs/heads/feature",
      digest: { gitTree: "t".repeat(40) },
      annotations: { dirty: true, head: "c".repeat(40) },
    });
  });

  it("a base image by the digest its reference pins, else the registry's manifest digest, else the local id", () => {
    const pin = "a".repeat(64);
    const onEngine = {
      repoDigests: [`docker.io/library/nginx@sha256:${"b".repeat(64)}`, `quay.io/other/nginx@sha256:${"d".repeat(64)}`],
      id: `sha256:${"e".repeat(64)}`,
    };
    expect(baseImageDependency("nginxImage", `nginx@sha256:${pin}`, onEngine)).toEqual({
      uri: `docker-image://nginx@sha256:${pin}`,
      digest: { sha256: pin },
      annotations: { role: "nginxImage", digestFrom: "reference" },
    });
    expect(baseImageDependency("nginxImage", "nginx:stable", onEngine).digest).toEqual({ sha256: "b".repeat(64) });
    const podmanLocal = { ...onEngine, repoDigests: [`localhost/base@sha256:${"f".repeat(64)}`] };
    expect(baseImageDependency("baseImage", "localhost/base:bookworm", podmanLocal)).toMatchObject({
      digest: { sha256: "e".repeat(64) },
      annotations: { digestFrom: "local image id" },
    });
    expect(baseImageDependency("baseImage", "ubuntu:jammy")).toEqual({
      uri: "docker-image://ubuntu:jammy",
      annotations: { role: "baseImage", digestFrom: "none: not on the engine" },
    });
  });
});
