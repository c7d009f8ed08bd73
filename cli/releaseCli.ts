/**
 * `npm run release -- <snapshot|release> [preview|up|destroy|refresh] [--yes] [--json]`: the stack
 * operations for scripts and people. The Pulumi workspace sits behind {@link ReleaseWorkspace} (the
 * Automation API implements it in cli/automation.ts), so everything here runs without a Pulumi CLI.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { SUMS_KEY } from "../lib/supply/checksums";
import { parseArgs } from "node:util";
import { isSecretKey, KEYS, MODES, PROJECT } from "../lib/config";
import { type Mode, snapshotStackName } from "../lib/version/version";
import { UserError } from "../lib/errors";
import { CI_VARIABLES } from "../lib/github/environment";
import type { AttestResult } from "../lib/supply/attest";
import { isLocalArtifactType } from "../lib/steps/kinds";
import { mergeSettings, readStackFile, settingsFromCommandLine, settingsFromEnvironment } from "./stackConfig";

export const OPERATIONS = ["preview", "up", "destroy", "refresh"] as const;
const PROJECT_DIR = join(__dirname, "..");
export type Operation = (typeof OPERATIONS)[number];

export const RELEASE_USAGE = `usage: npm run release -- <snapshot|release> [preview|up|destroy|refresh] [--yes] [--json]
                          [--refresh | --preview-only] [--source DIR] [--set key=value]... [--branch NAME | --stack NAME]

  preview   what up would change (default)
  up        build, verify and publish; on the release stack only with --yes (without it: a preview)
  destroy   remove the stack's resources (released artifacts are retained); release needs --yes
  refresh   each step reads back what it made: what is gone is made again by the next up, what changed
            outside the stack (a moved tag, a yanked deb) is drift, named, and refused by the next up

  --refresh         preview, up: refresh first (what the publish workflow runs on a fresh runner)
  --preview-only    refresh: name what drifted without writing the state; exits 3 when anything did

  --source DIR      the Ralph checkout (config key source)
  --set key=value   any other non-secret config key; secrets come from the environment:
                    ${CI_VARIABLES.filter((v) => isSecretKey(v.key))
                      .map((v) => `${v.env} (${v.key})`)
                      .join(", ")}
  --json            print the summary as JSON on stdout (progress stays on stderr)
  --yes             allow up and destroy on the release stack
  --branch NAME     snapshot: the stack of that branch, snapshot-<branch> (default: the checkout's
                    branch), e.g. to destroy a deleted branch's snapshots
  --stack NAME      the stack by its own name (e.g. snapshot, the one stack of earlier versions)

A snapshot stack is the checkout's branch's own (snapshot-<branch>), with Pulumi.snapshot.yaml's
settings; the release stack is release.

The backend is Pulumi.yaml's (a directory in this project) unless PULUMI_BACKEND_URL says otherwise.`;

export interface ReleaseRequest {
  /** snapshot or release: the mode the stack runs in. */
  readonly mode: Mode;
  /** The stack's name: `release`, a branch's `snapshot-<branch>`, or what --stack names. */
  readonly stack: string;
  readonly operation: Operation;
  readonly yes: boolean;
  readonly json: boolean;
  /** up, preview: refresh first. */
  readonly refresh?: boolean;
  /** refresh: report drift without writing the state. */
  readonly previewOnly?: boolean;
  /** Config to set on the stack, by short key. */
  readonly config: Readonly<Record<string, { value: string; secret: boolean }>>;
  /** --source and --set as given (the checks read the stack's settings the same way). */
  readonly source?: string;
  readonly set: readonly string[];
  /** This project (its stack files); the directory of cli/ by default. */
  readonly projectDir?: string;
}

export function parseReleaseArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  projectDir = PROJECT_DIR,
): ReleaseRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        source: { type: "string" },
        set: { type: "string", multiple: true },
        yes: { type: "boolean", short: "y" },
        json: { type: "boolean" },
        branch: { type: "string" },
        stack: { type: "string" },
        refresh: { type: "boolean" },
        "preview-only": { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UserError(`${(error as Error).message}\n${RELEASE_USAGE}`);
  }
  const { values, positionals } = parsed;
  const [stack, operation = "preview", ...extra] = positionals;
  if (!stack || !(MODES as readonly string[]).includes(stack)) {
    throw new UserError(
      `first argument must be a stack, snapshot or release (got ${stack ?? "nothing"}).\n${RELEASE_USAGE}`,
    );
  }
  if (!(OPERATIONS as readonly string[]).includes(operation) || extra.length > 0) {
    throw new UserError(`unknown operation '${[operation, ...extra].join(" ")}'.\n${RELEASE_USAGE}`);
  }
  const settings = mergeSettings(
    settingsFromEnvironment(env),
    settingsFromCommandLine(values.source, values.set ?? [], cwd),
  );
  const config = Object.fromEntries(
    Object.entries(settings.values).map(([key, value]) => [key, { value, secret: settings.secretKeys.has(key) }]),
  );
  const [yes, json] = [values.yes === true, values.json === true];
  const [refresh, previewOnly] = [values.refresh === true, values["preview-only"] === true];
  if (refresh && operation !== "up" && operation !== "preview") {
    throw new UserError(`--refresh is for up and preview (refresh itself always reads).\n${RELEASE_USAGE}`);
  }
  if (previewOnly && operation !== "refresh") {
    throw new UserError(`--preview-only is for refresh (preview shows what up would do).\n${RELEASE_USAGE}`);
  }
  const mode = stack as Mode;
  if ("mode" in settings.values) {
    throw new UserError(
      `mode comes from the first argument (${mode}), not from --set or the environment: run npm run release -- ${settings.values.mode} … instead.`,
    );
  }
  const source = sourceDir(settings.values.source, mode, projectDir);
  return {
    mode,
    stack: stackName(mode, operation as Operation, values, () => branchOf(source)),
    operation: operation as Operation,
    yes,
    json,
    refresh,
    previewOnly,
    config,
    source: values.source,
    set: values.set ?? [],
    projectDir,
  };
}

/** The stack a run works on: --stack, else the release stack, else the snapshot stack of a branch. */
function stackName(
  mode: Mode,
  operation: Operation,
  values: { branch?: string; stack?: string },
  checkoutBranch: () => string,
): string {
  if (values.branch !== undefined && values.stack !== undefined) {
    throw new UserError(`--branch and --stack name the stack twice: give one.\n${RELEASE_USAGE}`);
  }
  if (values.stack !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(values.stack)) {
      throw new UserError(`--stack ${values.stack}: a stack name is 1 to 100 letters, digits, '-', '_' and '.'.`);
    }
    // The other mode's stack would be rewritten with this mode's settings, and escape its guard.
    if ((mode === "release") !== (values.stack === "release")) {
      throw new UserError(
        `--stack ${values.stack} is not a ${mode} stack: the release stack is release, and only it runs as one.`,
      );
    }
    return values.stack;
  }
  if (mode === "release") {
    if (values.branch !== undefined)
      throw new UserError("--branch is for snapshot stacks: the release stack is release.");
    return "release";
  }
  if (values.branch === undefined) return snapshotStackName(checkoutBranch());
  if (values.branch.trim() === "") throw new UserError("--branch needs a branch name.");
  // up and preview build the checkout: into its own branch's stack only.
  if (operation === "up" || operation === "preview") {
    // No checkout there: the checks before the run say so, with the fix.
    const checkout = (() => {
      try {
        return checkoutBranch();
      } catch {
        return undefined;
      }
    })();
    if (checkout !== undefined && snapshotStackName(checkout) !== snapshotStackName(values.branch)) {
      throw new UserError(
        `--branch ${values.branch}, but the checkout is on ${checkout}: ${operation} builds the checkout, into its own branch's stack. ` +
          "Check out that branch, or leave --branch out (it is for destroy and refresh of a branch you have not checked out).",
      );
    }
  }
  return snapshotStackName(values.branch);
}

/**
 * The Ralph checkout a run builds: --source or RALPH_SOURCE, else the stack file's `source`, else the
 * default beside this project.
 */
function sourceDir(source: string | undefined, mode: Mode, projectDir: string): string {
  const path = source ?? readStackFile(projectDir, mode, "").values.source ?? (KEYS.source.default.snapshot as string);
  return isAbsolute(path) ? path : resolve(projectDir, path);
}

/** The checkout's branch, as the snapshot's version names it (a detached HEAD is `HEAD`). */
function branchOf(source: string): string {
  const result = spawnSync("git", ["-C", source, "symbolic-ref", "--quiet", "--short", "HEAD"], { encoding: "utf8" });
  if (result.error || (result.status !== 0 && result.status !== 1)) {
    throw new UserError(
      `${source} is not a git checkout, so its branch cannot name the snapshot stack: ` +
        "pass --source DIR (a Ralph checkout), or --branch NAME.",
    );
  }
  return result.status === 0 ? result.stdout.trim() : "HEAD";
}

/** The subset of Pulumi's engine events the display reads (automation/events.d.ts). */
export interface EngineEvent {
  readonly resourcePreEvent?: { readonly metadata: StepMetadata; readonly planning?: boolean };
  readonly resOutputsEvent?: { readonly metadata: StepMetadata; readonly planning?: boolean };
  readonly resOpFailedEvent?: { readonly metadata: StepMetadata };
  readonly diagnosticEvent?: { readonly urn?: string; readonly message: string; readonly severity: string };
}

interface StepMetadata {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
}

export interface RunOptions {
  /** up, preview: refresh first. */
  readonly refresh?: boolean;
  /** refresh: do not write the state. */
  readonly previewOnly?: boolean;
}

export interface OperationResult {
  /** Stack outputs; secret ones are never printed. */
  readonly outputs: Readonly<Record<string, { readonly value: unknown; readonly secret: boolean }>>;
  /** Count per operation (create, update, same, delete…). */
  readonly changes: Readonly<Record<string, number>>;
}

export interface ReleaseWorkspace {
  /**
   * Selects the stack, creating it when new; `mode` and the secrets it holds or is about to
   * (`secrets`) decide what it needs (a passphrase or none).
   */
  selectStack(stack: string, mode: Mode, secrets: readonly string[]): Promise<void>;
  /** Sets config keys (full `ralph-release:` names are the workspace's business). */
  setConfig(config: ReleaseRequest["config"]): Promise<void>;
  run(operation: Operation, onEvent: (event: EngineEvent) => void, options?: RunOptions): Promise<OperationResult>;
  /** The backend's stacks of this project (to tell a new branch stack that snapshots moved). */
  stackNames?(mode: Mode): Promise<string[]>;
}

/**
 * Said once, on a branch's first run beside the one `snapshot` stack of earlier versions: where its
 * snapshots live and publish now.
 */
function movedNote(request: ReleaseRequest, names: readonly string[] | undefined): string | undefined {
  if (request.mode !== "snapshot" || request.stack === "snapshot" || !names) return undefined;
  if (!["up", "preview"].includes(request.operation)) return undefined;
  if (!names.includes("snapshot") || names.includes(request.stack)) return undefined;
  return (
    `this branch's snapshots now have a stack of their own, ${request.stack}, and publish to snapshot destinations only ` +
    "(aptly's public/snapshots/, packagecloud allegro/ralph-snapshots by default); the stack snapshot of earlier " +
    "versions is left as it was: npm run release -- snapshot destroy --stack snapshot --yes removes what it holds (README, Stacks are modes)"
  );
}

const VERBS: Record<string, [string, string]> = {
  create: ["+ create ", "+ created "],
  update: ["~ update ", "~ updated "],
  replace: ["+-replace", "+-replaced"],
  "create-replacement": ["+-replace", "+-replaced"],
  delete: ["- delete ", "- deleted "],
  "delete-replaced": ["- delete ", "- deleted "],
  read: ["> read   ", "> read    "],
  refresh: ["~ refresh", "~ refreshed"],
  import: ["= import ", "= imported"],
  "discard-replaced": ["- discard", "- discarded"],
};

const nameOf = (urn: string) => urn.split("::").at(-1) ?? urn;

/** Turns engine events into one readable line per resource step, timed; remembers the first failure. */
/**
 * What a refresh found that is drift: a published object read back changed (an update), or a
 * provider's resource (the GitHub release) found deleted. Our steps' objects that are gone read as
 * drift in their result (a release's tag, its yanked deb); a local artifact is never drift.
 */
function isDrift(op: string, type: string): boolean {
  if (isLocalArtifactType(type)) return false;
  return op === "update" || (op === "delete" && !type.startsWith("pulumi-nodejs:dynamic/"));
}

export class ProgressDisplay {
  private readonly started = new Map<string, number>();
  /** Errors reported for a resource, by URN. */
  private readonly errors = new Map<string, string[]>();
  failed?: { name: string; type: string; message: string };
  /**
   * Resources a refresh found changed outside the stack. A local artifact that is not on this
   * machine (a deb, an image: a fresh runner has none) reads as gone or missing, and is made again or
   * pulled back by the next up: that is not drift.
   */
  readonly drifted = new Set<string>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  readonly onEvent = (event: EngineEvent): void => {
    for (const step of [event.resourcePreEvent?.metadata, event.resOutputsEvent?.metadata]) {
      if (step && !step.type.startsWith("pulumi:") && isDrift(step.op, step.type)) this.drifted.add(nameOf(step.urn));
    }
    const pre = event.resourcePreEvent;
    if (pre && !pre.planning && pre.metadata.op !== "same" && !pre.metadata.type.startsWith("pulumi:")) {
      this.started.set(pre.metadata.urn, this.now());
      const [verb] = VERBS[pre.metadata.op] ?? [pre.metadata.op];
      this.write(`  ${verb} ${nameOf(pre.metadata.urn)} (${pre.metadata.type}) …`);
    }
    const done = event.resOutputsEvent;
    if (done && !done.planning && done.metadata.op !== "same" && !done.metadata.type.startsWith("pulumi:")) {
      const since = this.started.get(done.metadata.urn);
      const took = since === undefined ? "" : ` ${((this.now() - since) / 1000).toFixed(1)} s`;
      const [, verb] = VERBS[done.metadata.op] ?? [done.metadata.op, done.metadata.op];
      this.write(`  ${verb} ${nameOf(done.metadata.urn)}${took}`);
    }
    const diagnostic = event.diagnosticEvent;
    // Debug diagnostics are the engine's own tracing (serialized providers, RPCs): not for people.
    if (diagnostic && diagnostic.severity !== "debug") {
      const message = diagnostic.message.trimEnd();
      const who = diagnostic.urn ? `${nameOf(diagnostic.urn)}: ` : "";
      if (diagnostic.severity === "error") {
        if (diagnostic.urn) this.errors.set(diagnostic.urn, [...(this.errors.get(diagnostic.urn) ?? []), message]);
        this.write(`  error: ${who}${message}`);
      } else if (message.length > 0) {
        this.write(`    ${who}${message.split("\n").join(`\n    ${who}`)}`);
      }
    }
    const failure = event.resOpFailedEvent;
    if (failure && !this.failed) {
      const { urn, type } = failure.metadata;
      this.failed = { name: nameOf(urn), type, message: (this.errors.get(urn) ?? []).join("\n") };
    }
  };

  /** The first resource an error diagnostic named, when no step failure event came. */
  firstErrored(): { name: string; type: string; message: string } | undefined {
    const [urn, messages] = [...this.errors.entries()][0] ?? [];
    if (!urn) return undefined;
    return { name: nameOf(urn), type: urn.split("::").at(-2)?.split("$").at(-1) ?? "", message: messages.join("\n") };
  }
}

export interface ReleaseSummary {
  readonly stack: string;
  readonly operation: Operation;
  readonly result: "succeeded" | "failed" | "refused" | "previewed";
  readonly seconds: number;
  readonly version?: string;
  readonly mode?: string;
  readonly deb?: { readonly path?: string; readonly sha256?: string };
  readonly images?: Readonly<Record<string, string>>;
  readonly targets?: readonly string[];
  readonly githubRelease?: string;
  /** Where the SBOMs, provenance and signatures are, and what signed them. */
  readonly attested?: {
    readonly dir: string;
    readonly sigstoreSigning: string;
    readonly checksumsSigning: string;
    /** The GPG key's fingerprint and the bundles' signer (certificate identity or key hint), when known. */
    readonly checksumsFingerprint?: string;
    readonly sigstoreSigner?: string;
  };
  readonly changes?: Readonly<Record<string, number>>;
  /** refresh: the resources whose published or built object changed outside the stack, or is gone. */
  readonly drifted?: readonly string[];
  /** What the stack left out and why (the program's notices: inkpy without a checkout, `latest` staying). */
  readonly notes?: readonly string[];
  readonly failed?: { readonly name: string; readonly type: string; readonly message: string };
  readonly message?: string;
}

function summarize(
  request: ReleaseRequest,
  result: OperationResult,
  seconds: number,
  status: ReleaseSummary["result"],
): ReleaseSummary {
  const plain = (key: string): unknown => {
    const output = result.outputs[key];
    return output && !output.secret ? output.value : undefined;
  };
  const refs = (plain("imageRefs") as Record<string, string> | undefined) ?? {};
  const ids = (plain("imageIds") as Record<string, string> | undefined) ?? {};
  const targets = (plain("debLocations") as string[] | undefined) ?? [];
  return {
    stack: request.stack,
    operation: request.operation,
    result: status,
    seconds,
    version: plain("version") as string | undefined,
    mode: plain("mode") as string | undefined,
    deb: { path: plain("debPath") as string | undefined, sha256: plain("debSha256") as string | undefined },
    images: Object.keys(refs).length > 0 ? refs : ids,
    targets,
    githubRelease: plain("githubReleaseUrl") as string | undefined,
    attested: attestedOf(plain("attestations") as AttestResult | undefined),
    changes: result.changes,
    notes: plain("notices") as string[] | undefined,
  };
}

function attestedOf(result: AttestResult | undefined): ReleaseSummary["attested"] {
  if (!result) return undefined;
  const { artifactDir: dir, sigstoreSigning, checksumsSigning, checksumsFingerprint, sigstoreSigner } = result;
  return { dir, sigstoreSigning, checksumsSigning, checksumsFingerprint, sigstoreSigner };
}

/** The check to run on what was attested, with the anchor that fits who signed it. */
function verifyCommand(version: string | undefined, attested: NonNullable<ReleaseSummary["attested"]>): string {
  const command = `npm run verify -- ${version}`;
  if (attested.checksumsSigning === "throw-away key") {
    const key = relative(process.cwd(), join(attested.dir, SUMS_KEY));
    return `${command} --gpg-key ${key.startsWith("..") ? join(attested.dir, SUMS_KEY) : key} (this build's throw-away key: shows its files intact, not who made them)`;
  }
  const gpg = `--gpg-key <the release key${attested.checksumsFingerprint ? `, ${attested.checksumsFingerprint}` : ""}>`;
  const keyless = attested.sigstoreSigning === "keyless" && attested.sigstoreSigner;
  return `${command} ${gpg}${keyless ? ` --identity ${attested.sigstoreSigner} --trusted-root trusted_root.json` : ""}`;
}

export function renderSummary(summary: ReleaseSummary): string {
  const lines = [
    `ralph-release ${summary.stack} ${summary.operation}: ${summary.result} in ${summary.seconds.toFixed(0)} s`,
  ];
  const row = (label: string, text: string | undefined) => text && lines.push(`  ${label.padEnd(10)}${text}`);
  if (summary.failed) {
    row("failed at", `${summary.failed.name} (${summary.failed.type})`);
    if (summary.failed.message) lines.push(...summary.failed.message.split("\n").map((l) => `    ${l}`));
  }
  if (summary.message) lines.push(`  ${summary.message}`);
  row("version", summary.version && `${summary.version} (${summary.mode})`);
  row("deb", summary.deb?.path && `${summary.deb.path}${summary.deb.sha256 ? `  sha256 ${summary.deb.sha256}` : ""}`);
  for (const [image, ref] of Object.entries(summary.images ?? {}))
    row(image === Object.keys(summary.images ?? {})[0] ? "images" : "", `${image}  ${ref}`);
  row("targets", summary.targets && summary.targets.length > 0 ? summary.targets.join(", ") : undefined);
  row("github", summary.githubRelease);
  const { attested } = summary;
  row(
    "attested",
    attested &&
      `SBOMs, provenance, bundles (${attested.sigstoreSigning}), SHA256SUMS.asc (${attested.checksumsSigning}); check: ${verifyCommand(summary.version, attested)}`,
  );
  for (const [index, note] of (summary.notes ?? []).entries()) row(index === 0 ? "notes" : "", note);
  row("drifted", summary.drifted && summary.drifted.length > 0 ? summary.drifted.join(", ") : undefined);
  const changes = Object.entries(summary.changes ?? {}).filter(([, n]) => n > 0);
  row("changes", changes.length > 0 ? changes.map(([op, n]) => `${n} ${op}`).join(", ") : undefined);
  return lines.filter((l) => l.trim().length > 0).join("\n");
}

export interface ReleaseIo {
  /** Progress, for people (stderr). */
  readonly progress: (line: string) => void;
  /** The result (stdout): the summary, or its JSON. */
  readonly result: (text: string) => void;
  readonly now?: () => number;
  /** What this machine needs for the operation, checked before the stack is touched (npm run doctor). */
  readonly preflight?: (operation: Operation) => Promise<{ passed: boolean; text: string }>;
}

/**
 * Who holds the stack's state lock, when `message` is the backend refusing a second concurrent run
 * (a self-managed backend's lock file, or Pulumi Cloud's 409); "" when it does not say; undefined
 * for any other error.
 */
export function lockHolder(message: string): string | undefined {
  if (/the stack is currently locked by \d+ lock/.test(message)) {
    // The Automation API's error carries the CLI's output more than once: each holder once.
    return [...new Set([...message.matchAll(/created by (\S+ \(pid \d+\) at \S+)/g)].map((m) => m[1]))].join("; ");
  }
  return /another update is currently in progress/i.test(message) ? "" : undefined;
}

/**
 * What a run sets on its stack: for a stack named otherwise than its mode (a branch's snapshot stack),
 * `mode` and the mode's stack file's plain settings first (Pulumi.snapshot.yaml: the file a user edits
 * is the same for every branch), then what the environment and flags give.
 */
function stackConfig(request: ReleaseRequest): ReleaseRequest["config"] {
  if (request.stack === request.mode) return request.config;
  const modeFile = readStackFile(request.projectDir ?? PROJECT_DIR, request.mode, "");
  const plain = Object.entries(modeFile.values).filter(([key]) => !modeFile.secretKeys.has(key));
  return {
    ...Object.fromEntries(plain.map(([key, value]) => [key, { value, secret: false }])),
    mode: { value: request.mode, secret: false },
    ...request.config,
  };
}

/** Runs one stack operation; returns the process exit code (0 ok, 1 failed, 2 refused, 3 drift found by refresh --preview-only). */
export async function runRelease(request: ReleaseRequest, workspace: ReleaseWorkspace, io: ReleaseIo): Promise<number> {
  const now = io.now ?? Date.now;
  const start = now();
  const emit = (summary: ReleaseSummary) =>
    io.result(request.json ? JSON.stringify(summary, null, 2) : renderSummary(summary));
  const guarded = request.mode === "release" && !request.yes;
  if (guarded && request.operation === "destroy") {
    emit({
      stack: request.stack,
      operation: request.operation,
      result: "refused",
      seconds: 0,
      message:
        "destroy on the release stack needs --yes. Released packages, images and the GitHub release are retained either way; the stack forgets them.",
    });
    return 2;
  }
  // A release `up` without --yes shows what it would do and stops: publishing is never a surprise.
  const operation: Operation = guarded && request.operation === "up" ? "preview" : request.operation;
  const display = new ProgressDisplay(io.progress, now);
  io.progress(`ralph-release: ${operation} of stack ${request.stack} (${PROJECT})`);
  const ready = await io.preflight?.(operation);
  if (ready && !ready.passed) {
    io.progress(ready.text);
    emit({
      stack: request.stack,
      operation,
      result: "refused",
      seconds: (now() - start) / 1000,
      message: `this machine is not ready for ${operation}: the checks marked ✗ above say what to fix (npm run doctor -- ${request.mode} runs them alone). Nothing was started.`,
    });
    return 2;
  }
  let started = false;
  try {
    const names = await workspace.stackNames?.(request.mode);
    // A branch's cleanup of a stack that was never made (or is gone) makes none.
    if (names && !names.includes(request.stack) && (operation === "destroy" || operation === "refresh")) {
      const message = `there is no stack ${request.stack}: nothing to ${operation}.`;
      emit({ stack: request.stack, operation, result: "succeeded", seconds: (now() - start) / 1000, message });
      return 0;
    }
    const moved = movedNote(request, names);
    const config = stackConfig(request);
    const projectDir = request.projectDir ?? PROJECT_DIR;
    const stackFile = join(projectDir, `Pulumi.${request.stack}.yaml`);
    const secrets = new Set([
      ...readStackFile(projectDir, request.stack, "").secretKeys,
      ...Object.entries(config)
        .filter(([, setting]) => setting.secret)
        .map(([key]) => key),
    ]);
    await workspace.selectStack(request.stack, request.mode, [...secrets]);
    // --set and CI's settings are this run's, not the stack file's: it is put back as the stack
    // left it once the run ends, also on Ctrl-C or a kill (only the encryption salt Pulumi writes
    // when it creates a stack stays). A `pulumi config set` made during the run is undone with it.
    const asSelected = existsSync(stackFile) ? readFileSync(stackFile) : undefined;
    const restore = () =>
      asSelected !== undefined ? writeFileSync(stackFile, asSelected) : rmSync(stackFile, { force: true });
    // Ctrl-C reaches the pulumi CLI too, which stops the operation; this process then ends as usual.
    const onInterrupt = () => restore();
    const onTerminate = () => {
      restore();
      process.exit(143);
    };
    process.once("SIGINT", onInterrupt);
    process.once("SIGTERM", onTerminate);
    let result: OperationResult;
    try {
      await workspace.setConfig(config);
      started = true;
      result = await workspace.run(operation, display.onEvent, {
        refresh: request.refresh,
        previewOnly: request.previewOnly,
      });
    } finally {
      process.off("SIGINT", onInterrupt);
      process.off("SIGTERM", onTerminate);
      restore();
    }
    const status = operation !== request.operation ? "previewed" : "succeeded";
    const summarized = summarize({ ...request, operation }, result, (now() - start) / 1000, status);
    const drifted = operation === "refresh" ? [...display.drifted].sort() : [];
    const summary = {
      ...(moved ? { ...summarized, notes: [moved, ...(summarized.notes ?? [])] } : summarized),
      ...(operation === "refresh" ? { drifted } : {}),
    };
    if (request.previewOnly && drifted.length > 0) {
      emit({
        ...summary,
        message:
          "drift: what these made changed outside the stack, or is gone (nothing was written). The next up makes again " +
          "what is gone and refuses what a release never overwrites, saying how to accept it (README, A stack that travels).",
      });
      return 3;
    }
    emit(
      status === "previewed"
        ? { ...summary, message: "nothing was published: review the preview, then run again with --yes to publish." }
        : summary,
    );
    return 0;
  } catch (error) {
    const seconds = (now() - start) / 1000;
    const holder = lockHolder((error as Error).message);
    if (holder !== undefined) {
      const message = `another run on stack ${request.stack} holds its state lock${holder ? ` (${holder})` : ""}: nothing was started. Wait for it to end; if that process is gone, \`pulumi cancel --stack ${request.stack}\` releases the lock.`;
      emit({ stack: request.stack, operation, result: "refused", seconds, message });
      return 2;
    }
    // The user's setup stopped it before the engine ran: refused, like the checks above.
    const refused = !started && error instanceof UserError;
    const failed = display.failed ?? display.firstErrored();
    const message = failed ? undefined : (error as Error).message;
    emit({ stack: request.stack, operation, result: refused ? "refused" : "failed", seconds, failed, message });
    return refused ? 2 : 1;
  }
}
