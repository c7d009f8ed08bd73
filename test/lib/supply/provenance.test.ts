import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../lib/config";
import { provenanceSettings } from "../../../lib/supply/provenance";
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
