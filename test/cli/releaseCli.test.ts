import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitRepo, removeTempDirs, tempDir } from "../support/gitRepo";
import { UserError } from "../../lib/errors";
import {
  type EngineEvent,
  type Operation,
  type OperationResult,
  parseReleaseArgs,
  type ReleaseIo,
  type RunOptions,
  type ReleaseRequest,
  type ReleaseWorkspace,
  lockHolder,
  runRelease,
} from "../../cli/releaseCli";

afterAll(removeTempDirs);

const URN = (type: string, name: string) =>
  `urn:pulumi:release::ralph-release::ralph:release:RalphRelease$${type}::${name}`;
const BUILD = {
  op: "create",
  urn: URN("pulumi-nodejs:dynamic/deb:Build", "ralph-core-build"),
  type: "pulumi-nodejs:dynamic/deb:Build",
};
const PUSH = {
  op: "create",
  urn: URN("pulumi-nodejs:dynamic/images:Push", "ralph-images-ralph-push"),
  type: "pulumi-nodejs:dynamic/images:Push",
};

const UP_OUTPUTS: OperationResult = {
  outputs: {
    version: { value: "20241121.1", secret: false },
    mode: { value: "release", secret: false },
    debPath: { value: "/p/build/20241121.1/ralph-core_20241121.1_amd64.deb", secret: false },
    debSha256: { value: "ab".repeat(32), secret: false },
    imageRefs: { value: { ralph: `docker.io/allegro/ralph@sha256:${"12".repeat(32)}` }, secret: false },
    debLocations: { value: ["https://packagecloud.io/allegro/ralph"], secret: false },
    githubReleaseUrl: { value: "https://github.com/allegro/ralph/releases/tag/20241121.1", secret: false },
    registryPassword: { value: "pw-4711", secret: true },
  },
  changes: { create: 2, same: 20 },
};

/** A workspace that records what it is asked and replays engine events, as Pulumi's would. */
class RecordingWorkspace implements ReleaseWorkspace {
  readonly calls: string[] = [];
  config: ReleaseRequest["config"] = {};

  constructor(
    private readonly events: EngineEvent[] = [],
    private readonly outcome: OperationResult | Error = UP_OUTPUTS,
  ) {}

  async selectStack(stack: string) {
    this.calls.push(`select ${stack}`);
  }
  async setConfig(config: ReleaseRequest["config"]) {
    this.calls.push("config");
    this.config = config;
  }
  async run(operation: Operation, onEvent: (event: EngineEvent) => void, options: RunOptions = {}) {
    this.calls.push(
      [operation, ...(options.refresh ? ["--refresh"] : []), ...(options.previewOnly ? ["--preview-only"] : [])].join(
        " ",
      ),
    );
    for (const event of this.events) onEvent(event);
    if (this.outcome instanceof Error) throw this.outcome;
    return this.outcome;
  }
}

/** A project with no Ralph checkout beside it (whatever ../ralph holds on this machine). */
function lonelyProject(): string {
  const dir = join(tempDir(), "project");
  mkdirSync(dir);
  return dir;
}

async function release(
  argv: string[],
  workspace: ReleaseWorkspace,
  env: NodeJS.ProcessEnv = {},
  preflight?: ReleaseIo["preflight"],
) {
  const progress: string[] = [];
  const result: string[] = [];
  let clock = 0;
  const code = await runRelease(parseReleaseArgs(argv, env, "/home/me/ralph-release", lonelyProject()), workspace, {
    progress: (line) => progress.push(line),
    result: (text) => result.push(text),
    now: () => (clock += 1500),
    preflight,
  });
  return { code, progress: progress.join("\n"), result: result.join("\n") };
}

describe("parseReleaseArgs", () => {
  it("maps CI's variables and flags to config; secrets stay secrets; preview is the default", () => {
    const request = parseReleaseArgs(
      ["release", "--source", "../ralph", "--set", "imageNamespace=my-org"],
      { PACKAGECLOUD_TOKEN: "pc-1", REGISTRY_USERNAME: "bot", RALPH_GITHUB_RELEASE_ID: "42", HOME: "/root" },
      "/home/me/ralph-release",
    );
    expect(request).toEqual({
      mode: "release",
      stack: "release",
      projectDir: expect.any(String),
      operation: "preview",
      yes: false,
      json: false,
      refresh: false,
      previewOnly: false,
      config: {
        packagecloudToken: { value: "pc-1", secret: true },
        registryUsername: { value: "bot", secret: false },
        githubReleaseId: { value: "42", secret: false },
        source: { value: "/home/me/ralph", secret: false },
        imageNamespace: { value: "my-org", secret: false },
      },
      source: "../ralph",
      set: ["imageNamespace=my-org"],
    });
  });

  it("a snapshot runs on its branch's own stack, with Pulumi.snapshot.yaml's settings; --stack names any other", async () => {
    const project = tempDir("ralph-release-project-");
    writeFileSync(
      join(project, "Pulumi.snapshot.yaml"),
      "config:\n  ralph-release:debTargets: aptly\n  ralph-release:token:\n    secure: v1:abc\n",
    );
    const ralph = GitRepo.init();
    ralph.commit("initial");
    ralph.checkout("-b", "feature/ABC_12");
    const request = parseReleaseArgs(["snapshot", "up", "--source", ralph.dir], {}, "/", project);
    expect(request).toMatchObject({ mode: "snapshot", stack: "snapshot-feature-ABC-12" });
    const workspace = new RecordingWorkspace();
    await runRelease(request, workspace, { progress: () => {}, result: () => {} });
    expect(workspace.calls).toEqual(["select snapshot-feature-ABC-12", "config", "up"]);
    // The stack file's plain settings and the mode; an encrypted value belongs to the snapshot stack's key.
    expect(workspace.config).toEqual({
      debTargets: { value: "aptly", secret: false },
      mode: { value: "snapshot", secret: false },
      source: { value: ralph.dir, secret: false },
    });
    // Another branch, another stack; a deleted branch's stack by name; the one stack of earlier versions.
    ralph.checkout("-b", "feature/other");
    expect(parseReleaseArgs(["snapshot", "--source", ralph.dir], {}, "/", project).stack).toBe(
      "snapshot-feature-other",
    );
    expect(parseReleaseArgs(["snapshot", "destroy", "--branch", "gone/x"], {}, "/", project).stack).toBe(
      "snapshot-gone-x",
    );
    const legacy = parseReleaseArgs(["snapshot", "--stack", "snapshot"], {}, "/", project);
    expect(legacy.stack).toBe("snapshot");
    const legacyWorkspace = new RecordingWorkspace();
    await runRelease(legacy, legacyWorkspace, { progress: () => {}, result: () => {} });
    expect(legacyWorkspace.config).toEqual({});
    // The first run of a branch beside the one stack of earlier versions says, once, what moved.
    class WithStacks extends RecordingWorkspace {
      constructor(private readonly names: string[]) {
        super();
      }
      async stackNames() {
        return this.names;
      }
    }
    const summaryOf = async (names: string[]) => {
      const out: string[] = [];
      await runRelease({ ...request, json: true }, new WithStacks(names), {
        progress: () => {},
        result: (text) => out.push(text),
      });
      return JSON.parse(out.join("")) as { notes?: string[] };
    };
    expect((await summaryOf(["snapshot"])).notes?.[0]).toMatch(
      /^this branch's snapshots now have a stack of their own, snapshot-feature-ABC-12, .* npm run release -- snapshot destroy --stack snapshot --yes/,
    );
    expect((await summaryOf(["snapshot", "snapshot-feature-ABC-12"])).notes).toBeUndefined();
    expect((await summaryOf([])).notes).toBeUndefined();
    // A deleted branch's cleanup when its stack was never made: nothing selected, nothing made.
    const cleanup = new WithStacks(["snapshot-feature-ABC-12"]);
    const gone = parseReleaseArgs(["snapshot", "destroy", "--branch", "never/made", "--yes"], {}, "/", project);
    const out: string[] = [];
    expect(await runRelease(gone, cleanup, { progress: () => {}, result: (t) => out.push(t) })).toBe(0);
    expect(cleanup.calls).toEqual([]);
    expect(out.join("")).toContain("there is no stack snapshot-never-made: nothing to destroy.");
    // Nothing names the other mode's stack, or turns a run into the other mode.
    expect(() => parseReleaseArgs(["snapshot", "up", "--stack", "release"], {}, "/", project)).toThrow(
      "--stack release is not a snapshot stack: the release stack is release, and only it runs as one.",
    );
    expect(() => parseReleaseArgs(["release", "up", "--stack", "snapshot"], {}, "/", project)).toThrow(
      /--stack snapshot is not a release stack/,
    );
    expect(() =>
      parseReleaseArgs(["snapshot", "up", "--source", ralph.dir, "--set", "mode=release"], {}, "/", project),
    ).toThrow(/mode comes from the first argument \(snapshot\), not from --set/);
    // up builds the checkout: into its own branch's stack only.
    expect(() =>
      parseReleaseArgs(["snapshot", "up", "--source", ralph.dir, "--branch", "feature/ABC_12"], {}, "/", project),
    ).toThrow(/--branch feature\/ABC_12, but the checkout is on feature\/other: up builds the checkout/);
    // The stack file's source names the branch when no --source is given.
    writeFileSync(join(project, "Pulumi.snapshot.yaml"), `config:\n  ralph-release:source: ${ralph.dir}\n`);
    expect(parseReleaseArgs(["snapshot"], {}, "/", project).stack).toBe("snapshot-feature-other");
    expect(() => parseReleaseArgs(["snapshot", "--stack", "a", "--branch", "b"], {}, "/", project)).toThrow(
      /--branch and --stack name the stack twice/,
    );
    expect(() => parseReleaseArgs(["release", "--branch", "b"], {}, "/", project)).toThrow(
      /--branch is for snapshot stacks/,
    );
    // A project with no checkout beside it (../ralph of a directory of its own).
    const alone = join(tempDir(), "project");
    mkdirSync(alone);
    expect(() => parseReleaseArgs(["snapshot"], {}, "/", alone)).toThrow(
      /is not a git checkout, so its branch cannot name the snapshot stack: pass --source DIR/,
    );
  });

  it("refuses unknown stacks, operations and keys, and secrets on the command line", () => {
    expect(() => parseReleaseArgs(["prod", "up"], {}, "/")).toThrow(
      /first argument must be a stack, snapshot or release \(got prod\)/,
    );
    expect(() => parseReleaseArgs(["release", "deploy"], {}, "/")).toThrow(/unknown operation 'deploy'/);
    expect(() => parseReleaseArgs(["snapshot", "--set", "source="], {}, "/")).toThrow(
      "--set source= is empty: give it a value (e.g. --set source=../ralph), or leave it out for its default.",
    );
    expect(() => parseReleaseArgs(["snapshot", "--set", "nameSpace=x"], {}, "/")).toThrow(
      /--set nameSpace: expected key=value with a ralph-release key \(README lists them\), e\.g\. --set imageNamespace=my-org\./,
    );
    expect(() => parseReleaseArgs(["snapshot", "--set", "debTarget=aptly"], {}, "/")).toThrow(
      /--set debTarget: .*; did you mean --set debTargets=aptly\?/,
    );
    expect(() => parseReleaseArgs(["release", "--set", "packagecloudToken=pc-1"], {}, "/")).toThrow(
      /packagecloudToken is a secret and must not be on a command line; pass it in PACKAGECLOUD_TOKEN/,
    );
    expect(() => parseReleaseArgs(["release", "destroy", "--refresh"], {}, "/")).toThrow(
      /--refresh is for up and preview/,
    );
    expect(() => parseReleaseArgs(["release", "up", "--preview-only"], {}, "/")).toThrow(
      /--preview-only is for refresh/,
    );
  });
});

describe("runRelease", () => {
  it("up: selects the stack, sets config, streams one timed line per step, prints a summary", async () => {
    const workspace = new RecordingWorkspace([
      { resourcePreEvent: { metadata: BUILD } },
      { diagnosticEvent: { urn: BUILD.urn, message: "dpkg-buildpackage: binary-only upload\n", severity: "info#err" } },
      { diagnosticEvent: { urn: BUILD.urn, message: "Found free variables: {}", severity: "debug" } },
      { resOutputsEvent: { metadata: BUILD } },
      { resourcePreEvent: { metadata: { ...BUILD, op: "same" } } },
      { resourcePreEvent: { metadata: PUSH } },
      { resOutputsEvent: { metadata: PUSH } },
    ]);
    const { code, progress, result } = await release(["release", "up", "--yes"], workspace, {
      REGISTRY_PASSWORD: "pw-4711",
    });
    expect(code).toBe(0);
    expect(workspace.calls).toEqual(["select release", "config", "up"]);
    expect(workspace.config.registryPassword).toEqual({ value: "pw-4711", secret: true });
    expect(progress.split("\n")).toEqual([
      "ralph-release: up of stack release (ralph-release)",
      "  + create  ralph-core-build (pulumi-nodejs:dynamic/deb:Build) …",
      "    ralph-core-build: dpkg-buildpackage: binary-only upload",
      "  + created  ralph-core-build 1.5 s",
      "  + create  ralph-images-ralph-push (pulumi-nodejs:dynamic/images:Push) …",
      "  + created  ralph-images-ralph-push 1.5 s",
    ]);
    expect(result).toBe(
      [
        "ralph-release release up: succeeded in 8 s",
        "  version   20241121.1 (release)",
        `  deb       /p/build/20241121.1/ralph-core_20241121.1_amd64.deb  sha256 ${"ab".repeat(32)}`,
        `  images    ralph  docker.io/allegro/ralph@sha256:${"12".repeat(32)}`,
        "  targets   https://packagecloud.io/allegro/ralph",
        "  github    https://github.com/allegro/ralph/releases/tag/20241121.1",
        "  changes   2 create, 20 same",
      ].join("\n"),
    );
  });

  it("never prints a secret output, even one the summary shows, as text or JSON", async () => {
    // Pulumi marks an output secret when it derives from a secret: here a location carrying a token.
    const outputs = {
      ...UP_OUTPUTS.outputs,
      debLocations: { value: ["https://pc-4711@packagecloud.io/allegro/ralph"], secret: true },
    };
    const workspace = () => new RecordingWorkspace([], { outputs, changes: { create: 1 } });
    const text = await release(["snapshot", "up", "--branch", "feature/ABC_12"], workspace());
    const json = await release(["snapshot", "up", "--branch", "feature/ABC_12", "--json"], workspace());
    expect(text.result).toContain("version   20241121.1");
    expect(text.result + json.result).not.toContain("pc-4711");
    expect(JSON.parse(json.result).targets).toEqual([]);
  });

  it("release up without --yes only previews, and says how to publish", async () => {
    const workspace = new RecordingWorkspace([], { outputs: {}, changes: { create: 30 } });
    const { code, result } = await release(["release", "up"], workspace);
    expect(code).toBe(0);
    expect(workspace.calls).toEqual(["select release", "config", "preview"]);
    expect(result).toMatch(/release preview: previewed .*\n  nothing was published: .*run again with --yes/);
    const snapshot = new RecordingWorkspace();
    await release(["snapshot", "up", "--branch", "feature/ABC_12"], snapshot);
    expect(snapshot.calls.at(-1)).toBe("up");
  });

  it("refresh --preview-only names what drifted, writes nothing, and exits 3; nothing drifted exits 0", async () => {
    const push = {
      urn: URN("pulumi-nodejs:dynamic/images:Push", "ralph-images-ralph-push"),
      type: "pulumi-nodejs:dynamic/images:Push",
    };
    const image = {
      urn: URN("pulumi-nodejs:dynamic/images:Build", "ralph-images-ralph"),
      type: "pulumi-nodejs:dynamic/images:Build",
    };
    const githubRelease = {
      urn: URN("github:index/release:Release", "ralph-github-release"),
      type: "github:index/release:Release",
    };
    const events: EngineEvent[] = [
      { resourcePreEvent: { metadata: { ...BUILD, op: "refresh" } } },
      // A fresh runner has no build/: the deb reads as gone, which the next up rebuilds; not drift.
      { resOutputsEvent: { metadata: { ...BUILD, op: "delete" } } },
      { resOutputsEvent: { metadata: { ...push, op: "update" } } },
      // Nor is its image, missing from this runner's engine (the next up pulls it back).
      { resOutputsEvent: { metadata: { ...image, op: "update" } } },
      // The GitHub release deleted by hand: its provider reads it as gone.
      { resOutputsEvent: { metadata: { ...githubRelease, op: "delete" } } },
    ];
    const workspace = new RecordingWorkspace(events, { outputs: {}, changes: { same: 20, update: 2 } });
    const drift = await release(["release", "refresh", "--preview-only", "--json"], workspace);
    expect(drift.code).toBe(3);
    expect(workspace.calls).toEqual(["select release", "config", "refresh --preview-only"]);
    expect(JSON.parse(drift.result)).toMatchObject({
      drifted: ["ralph-github-release", "ralph-images-ralph-push"],
      message: expect.stringMatching(/^drift: .*nothing was written/),
    });
    const calm = await release(
      ["release", "refresh", "--preview-only"],
      new RecordingWorkspace([], { outputs: {}, changes: { same: 20 } }),
    );
    expect(calm.code).toBe(0);
    expect(calm.result).not.toMatch(/drift/);
    const refreshedUp = new RecordingWorkspace();
    await release(["release", "up", "--yes", "--refresh"], refreshedUp);
    expect(refreshedUp.calls.at(-1)).toBe("up --refresh");
  });

  it("refuses destroy on release without --yes, before touching the stack", async () => {
    const workspace = new RecordingWorkspace();
    const { code, result } = await release(["release", "destroy", "--json"], workspace);
    expect(code).toBe(2);
    expect(workspace.calls).toEqual([]);
    expect(JSON.parse(result)).toMatchObject({ result: "refused", message: expect.stringMatching(/needs --yes/) });
    const confirmed = new RecordingWorkspace();
    expect((await release(["release", "destroy", "--yes"], confirmed)).code).toBe(0);
    expect(confirmed.calls.at(-1)).toBe("destroy");
  });

  it("a failed step: non-zero exit, the failing resource named with its error, as text and JSON", async () => {
    const verify = {
      ...BUILD,
      urn: URN("pulumi-nodejs:dynamic/deb:Verify", "ralph-core-verify"),
      type: "pulumi-nodejs:dynamic/deb:Verify",
    };
    const events: EngineEvent[] = [
      { resourcePreEvent: { metadata: verify } },
      { diagnosticEvent: { urn: verify.urn, message: "lintian: E: ralph-core: no-copyright-file", severity: "error" } },
      { resOpFailedEvent: { metadata: verify } },
    ];
    const failing = () => new RecordingWorkspace(events, new Error("stack update failed"));
    const text = await release(["snapshot", "up", "--branch", "feature/ABC_12"], failing());
    expect(text.code).toBe(1);
    expect(text.result).toMatch(
      /snapshot-feature-ABC-12 up: failed in \d+ s\n  failed at ralph-core-verify \(pulumi-nodejs:dynamic\/deb:Verify\)\n    lintian: E: ralph-core: no-copyright-file/,
    );
    const json = JSON.parse(
      (await release(["snapshot", "up", "--branch", "feature/ABC_12", "--json"], failing())).result,
    );
    expect(json).toMatchObject({
      result: "failed",
      failed: {
        name: "ralph-core-verify",
        type: "pulumi-nodejs:dynamic/deb:Verify",
        message: "lintian: E: ralph-core: no-copyright-file",
      },
    });
    // No resource to blame (e.g. the CLI is missing): the error itself is the message.
    const early = await release(
      ["snapshot", "preview", "--branch", "feature/ABC_12"],
      new RecordingWorkspace([], new Error("pulumi CLI not found")),
    );
    expect(early.code).toBe(1);
    expect(early.result).toContain("pulumi CLI not found");
  });

  it("a machine that is not ready: refused with the checks' lines before the stack is touched, exit 2", async () => {
    const workspace = new RecordingWorkspace();
    const asked: Operation[] = [];
    const notReady = async (operation: Operation) => {
      asked.push(operation);
      return { passed: false, text: "✗ Docker API       nothing answers at unix:///nowhere.sock" };
    };
    const { code, progress, result } = await release(
      ["snapshot", "up", "--branch", "feature/ABC_12", "--json"],
      workspace,
      {},
      notReady,
    );
    expect(code).toBe(2);
    expect(workspace.calls).toEqual([]);
    expect(progress).toContain("✗ Docker API       nothing answers at unix:///nowhere.sock");
    expect(JSON.parse(result)).toMatchObject({
      result: "refused",
      message: expect.stringContaining("npm run doctor -- snapshot"),
    });
    // A release `up` without --yes is a preview: it is checked as one.
    await release(["release", "up"], new RecordingWorkspace(), {}, notReady);
    expect(asked).toEqual(["up", "preview"]);
    const ready = new RecordingWorkspace();
    expect(
      (
        await release(["snapshot", "up", "--branch", "feature/ABC_12"], ready, {}, async () => ({
          passed: true,
          text: "",
        }))
      ).code,
    ).toBe(0);
    expect(ready.calls).toEqual(["select snapshot-feature-ABC-12", "config", "up"]);
  });

  it("the user's setup stopping the stack before the engine runs is a refusal (exit 2), not a failure", async () => {
    class NoCli extends RecordingWorkspace {
      override async selectStack(): Promise<void> {
        throw new UserError("the pulumi CLI was not found on PATH. Install it");
      }
    }
    const { code, result } = await release(["snapshot", "up", "--branch", "feature/ABC_12", "--json"], new NoCli());
    expect(code).toBe(2);
    expect(JSON.parse(result)).toMatchObject({
      result: "refused",
      message: expect.stringContaining("not found on PATH"),
    });
  });
});

describe("lockHolder", () => {
  it("reads who holds a self-managed backend's lock, knows Pulumi Cloud's conflict, and nothing else", () => {
    const diy =
      "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
      "  file:///s/.pulumi/locks/organization/ralph-release/snapshot/1.json: created by root@ci-7 (pid 4242) at 2026-11-25T18:00:00Z";
    expect(lockHolder(diy)).toBe("root@ci-7 (pid 4242) at 2026-11-25T18:00:00Z");
    // As the Automation API reports it: the CLI's stderr, then the same again in its message.
    expect(lockHolder(`${diy}\n${diy}`)).toBe("root@ci-7 (pid 4242) at 2026-11-25T18:00:00Z");
    expect(lockHolder("error: [409] Conflict: Another update is currently in progress.")).toBe("");
    expect(lockHolder("error: update failed")).toBeUndefined();
  });
});
