import { afterAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { RalphRelease } from "../../components/RalphRelease";
import { readStackInputs } from "../../components/stackInputs";
import { PROJECT_DIR } from "../support/containers";
import { GitRepo, removeTempDirs } from "../support/gitRepo";
import { RELEASE_CREDENTIALS, resolve, SECRET_KEYS, useStack } from "../support/pulumi";

afterAll(removeTempDirs);

interface Declared {
  readonly name: string;
  readonly opts: pulumi.ResourceOptions;
  readonly props: Record<string, unknown>;
}

/** Declares RalphRelease for `stack` under mocks and records every child's name, inputs and options. */
async function declare(stack: "snapshot" | "release", config: Record<string, string>) {
  const repo = GitRepo.init();
  repo.commit("initial");
  repo.tag("20241120.1");
  await useStack(stack, { source: repo.dir, ...RELEASE_CREDENTIALS, ...config }, SECRET_KEYS);
  const declared: Declared[] = [];
  const release = new RalphRelease(
    "ralph",
    { ...readStackInputs(), projectDir: PROJECT_DIR },
    {
      transformations: [
        (args) => {
          declared.push({ name: args.name, opts: args.opts, props: args.props });
          return undefined;
        },
      ],
    },
  );
  await resolve(release.version);
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  const named = (name: string) => declared.find((d) => d.name === name) ?? expect.fail(`${name} not declared`);
  /** Names of the resources `name` waits for. */
  const dependsOn = async (name: string) => {
    const deps = (named(name).opts.dependsOn ?? []) as pulumi.Resource[];
    const urns = await Promise.all(deps.map((d) => resolve(d.urn)));
    return urns.map((urn) => urn.split("::").at(-1));
  };
  return { declared, named, dependsOn };
}

const BOTH = { debTargets: "packagecloud,aptly", aptlyUrl: "https://apt.example.com/ralph", aptlyGpgKey: "0123ABCD" };

describe("RalphRelease: publishing the deb", () => {
  it("release: both targets retained on destroy, never yanked; the ralph image waits for the index", async () => {
    const { named, dependsOn } = await declare("release", BOTH);
    expect(named("ralph-core-packagecloud").opts.retainOnDelete).toBe(true);
    expect(named("ralph-core-packagecloud").props.yankOnDelete).toBe(false);
    expect(named("ralph-core-aptly").opts.retainOnDelete).toBe(true);
    // Installable means: every target has it (both published) and the first one's index lists it.
    expect(await dependsOn("ralph-core-index-poll")).toEqual(["ralph-core-packagecloud", "ralph-core-aptly"]);
    expect(
      JSON.parse((named("ralph-core-index-poll").props.environment as Record<string, string>).RALPH_APT_WAIT),
    ).toEqual({
      baseUrl: "https://packagecloud.io/allegro/ralph/ubuntu",
      release: "jammy",
      packageName: "ralph-core",
      version: "20241120.1",
      deadlineMs: 600_000,
    });
    expect(await dependsOn("images-ralph")).toContain("ralph-core-index-poll");
  });

  it("release from aptly alone: the image installs from the served aptly tree", async () => {
    const { named, declared } = await declare("release", { ...BOTH, debTargets: "aptly" });
    expect(declared.some((d) => d.name === "ralph-core-packagecloud")).toBe(false);
    const args = (named("images-ralph").props.build as { args: Record<string, string> }).args;
    expect(args.APT_SOURCE).toBe("https://apt.example.com/ralph/ubuntu/ jammy main");
    expect(args.APT_KEY_URL).toBe("https://apt.example.com/ralph/gpgkey");
  });

  it("snapshot: packagecloud packages may be yanked, nothing is retained, nothing waits for an index", async () => {
    const { named, declared } = await declare("snapshot", { debTargets: "packagecloud,aptly" });
    expect(named("ralph-core-packagecloud").opts.retainOnDelete).toBe(false);
    expect(named("ralph-core-packagecloud").props.yankOnDelete).toBe(true);
    expect(named("ralph-core-aptly").opts.retainOnDelete).toBe(false);
    expect(declared.some((d) => d.name.startsWith("ralph-core-index"))).toBe(false);
  });
});
