/**
 * Reads the stack's inputs once for index.ts: validated settings, secrets as Pulumi secrets, and the
 * checkout's version. The rules live in lib/; this file only connects them to the Pulumi runtime.
 */
import * as pulumi from "./sdk";
import { hasCiIdentity } from "../lib/supply/ciIdentity";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseConfig, type SecretValues, type Settings } from "../lib/config";
import { NO_RECORD, recordFromDeployment, type StackRecord } from "../lib/steps/stateRecord";
import { UserError } from "../lib/errors";
import { latestStaysFor } from "../lib/images/names";
import { type CheckoutVersion, checkoutForMode } from "../lib/version/version";

// Internal to @pulumi/pulumi but the only way to learn whether a value was stored with --secret;
// without it the plain-text check is skipped rather than failing every key.
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };

export type StackSecrets = { readonly [K in keyof SecretValues]?: pulumi.Output<string> };

export interface StackInputs {
  readonly settings: Settings;
  readonly secrets: StackSecrets;
  readonly checkout: CheckoutVersion;
  /** What this stack leaves out and why: the settings' notices, and `latest` staying behind a newer release. */
  readonly notices: readonly string[];
  /** A release's record of what this stack published, from its resources' state. */
  readonly recorded: StackRecord;
}

/** A program run under `pulumi.runtime.setMocks` (tests, `npm run plan`): it has no stack state to read. */
function underMocks(): boolean {
  const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: new (...args: never[]) => unknown };
  return pulumi.runtime.getMonitor() instanceof MockMonitor;
}

/**
 * What this very stack published, from its resources' state (lib/steps/stateRecord): read through
 * the Pulumi CLI that runs this program, once, before anything is declared. Snapshots keep no record
 * (they overwrite their own tags freely); a program under mocks (tests, `npm run plan`) has no state.
 */
function recordInState(mode: Settings["mode"], projectDir: string, debianVersion: string): StackRecord {
  if (mode !== "release" || underMocks()) return NO_RECORD;
  const stack = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const failures: string[] = [];
  // The CLI on PATH (the one running this program, as a rule), else the one `npm run engine` built.
  for (const pulumiCli of ["pulumi", join(projectDir, ".tools", "bin", "pulumi")]) {
    if (pulumiCli !== "pulumi" && !existsSync(pulumiCli)) continue;
    try {
      const exported = execFileSync(pulumiCli, ["stack", "export", "--stack", stack], {
        cwd: projectDir,
        encoding: "utf8",
        maxBuffer: 512 * 1024 * 1024,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const record = recordFromDeployment(JSON.parse(exported), debianVersion);
      const tags = Object.keys(record.versionTags).length;
      pulumi.log.info(
        `this stack's state records ${tags} version tag${tags === 1 ? "" : "s"} pushed` +
          (record.debSha256 ? ` and ralph-core ${debianVersion} (sha256 ${record.debSha256})` : ""),
      );
      return record;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      failures.push(`${pulumiCli}: ${stderr || (error as Error).message}`);
    }
  }
  throw new UserError(
    `a release reads what this stack published from its state (pulumi stack export --stack ${stack}), and could not:\n` +
      failures.map((failure) => `  ${failure}`).join("\n") +
      "\n  fix: run it with the Pulumi CLI on PATH and the stack's backend logged in (PULUMI_BACKEND_URL).",
  );
}

/** A user's mistake ends the program with its message and fix only: Pulumi prints RunError without a stack trace. */
function asRunError<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof UserError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

export function readStackInputs(): StackInputs {
  return asRunError(() => {
    const values = pulumi.runtime.allConfig();
    const isSecret = runtimeConfig.isConfigSecret ?? (() => true);
    const { settings, secrets } = parseConfig({
      stack: pulumi.getStack(),
      projectDir: process.cwd(),
      values,
      secretKeys: new Set(Object.keys(values).filter((key) => isSecret(key))),
      ciIdentity: hasCiIdentity(process.env),
      previewOnly: pulumi.runtime.isDryRun(),
    });
    const checkout = checkoutForMode(settings.mode, { source: settings.source, mainBranch: settings.mainBranch });
    const latestStays =
      settings.mode === "release" && settings.images.build
        ? latestStaysFor(checkout.version, checkout.newestOnMain)
        : undefined;
    const notices = [...settings.notices, ...(latestStays ? [latestStays] : [])];
    for (const notice of notices) pulumi.log.warn(notice);
    const secretOutputs = Object.fromEntries(
      Object.entries(secrets).flatMap(([key, value]) => (value === undefined ? [] : [[key, pulumi.secret(value)]])),
    );
    const recorded = recordInState(settings.mode, process.cwd(), checkout.debianVersion);
    return { settings, secrets: secretOutputs, checkout, notices, recorded };
  });
}
