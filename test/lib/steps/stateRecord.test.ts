import { describe, expect, it } from "vitest";
import { recordFromDeployment } from "../../../lib/steps/stateRecord";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const resource = (type: string, result: unknown) => ({
  urn: `urn:pulumi:release::ralph-release::${type}::x`,
  type,
  outputs: { stdout: JSON.stringify(result) },
});

describe("a release's record is its resources' state", () => {
  const deployment = {
    version: 3,
    deployment: {
      resources: [
        {
          urn: "urn:pulumi:release::ralph-release::pulumi:pulumi:Stack::ralph-release-release",
          type: "pulumi:pulumi:Stack",
        },
        resource("pulumi-nodejs:dynamic/images:Push", {
          ref: `r.example/ns/ralph@${digest("a")}`,
          tag: "20241124.1",
          digest: digest("a"),
          pushed: ["latest", "20241124.1"],
        }),
        // A tag a refresh found moved: still what this stack pushed.
        resource("pulumi-nodejs:dynamic/images:Push", {
          ref: `r.example/ns/inkpy@${digest("b")}`,
          tag: "20241124.1",
          digest: digest("b"),
          pushed: [],
          drift: "moved",
        }),
        // A result from before results named their tag: no evidence of which tag.
        resource("pulumi-nodejs:dynamic/images:Push", { ref: `r.example/ns/old@${digest("c")}`, digest: digest("c") }),
        resource("pulumi-nodejs:dynamic/deb:Build", { version: "20241124.1", sha256: "d".repeat(64) }),
        { type: "pulumi-nodejs:dynamic/images:Build", outputs: { stdout: "" } },
      ],
    },
  };

  it("every version tag a push step recorded, by reference, and the deb of the version asked for", () => {
    expect(recordFromDeployment(deployment, "20241124.1")).toEqual({
      versionTags: {
        "r.example/ns/ralph:20241124.1": digest("a"),
        "r.example/ns/inkpy:20241124.1": digest("b"),
      },
      debSha256: "d".repeat(64),
    });
  });

  it("without the deb build in the state (a fresh runner's refresh dropped it): the deb packagecloud was sent, from its inputs", () => {
    const sent = {
      type: "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage",
      inputs: { version: "20241124.1", sha256: "e".repeat(64) },
      // A refresh rewrote the outputs with what packagecloud holds now (a file replaced by hand).
      outputs: { sha256: "f".repeat(64) },
    };
    const legacyBuild = {
      type: "pulumi-nodejs:dynamic/pipeline:PipelineStep",
      outputs: {
        create: "npm run --silent cli -- deb build",
        stdout: JSON.stringify({ version: "20241124.1", sha256: "a".repeat(64) }),
      },
    };
    expect(recordFromDeployment({ deployment: { resources: [sent] } }, "20241124.1").debSha256).toBe("e".repeat(64));
    expect(recordFromDeployment({ deployment: { resources: [sent] } }, "20241125.1").debSha256).toBeUndefined();
    // A stack written before each kind had its type: its deb build found by its command.
    expect(recordFromDeployment({ deployment: { resources: [sent, legacyBuild] } }, "20241124.1").debSha256).toBe(
      "a".repeat(64),
    );
  });

  it("the deb of another version is no record of this one's; an empty stack records nothing", () => {
    expect(recordFromDeployment(deployment, "20241125.1").debSha256).toBeUndefined();
    expect(recordFromDeployment({ version: 3, deployment: {} }, "20241124.1")).toEqual({ versionTags: {} });
  });
});
