/**
 * Reads the stack's inputs once for index.ts: validated settings, secrets as Pulumi secrets, and the
 * checkout's version. The rules live in lib/; this file only connects them to the Pulumi runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, type SecretValues, type Settings } from "../lib/config";
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
  /** What this stack exported after its last update (a release's record of what it published). */
  readonly recorded: pulumi.Output<StackRecord>;
}

/** The outputs a release stack reads back as its record: what it pushed and what it built. */
export interface StackRecord {
  /** `<repository>@<digest>` of each image it pushed. */
  readonly imageRefs: Record<string, string>;
  /** sha256 of the deb it built and published. */
  readonly debSha256?: string;
}

/**
 * What this very stack exported after its last update, read back through a reference to itself.
 * Snapshots keep no record: they overwrite their own tags freely.
 */
function recordOfLastUpdate(mode: Settings["mode"]): pulumi.Output<StackRecord> {
  if (mode !== "release") return pulumi.output<StackRecord>({ imageRefs: {} });
  const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
  return pulumi
    .all([self.getOutput("imageRefs"), self.getOutput("debSha256")])
    .apply(([imageRefs, debSha256]) => ({ imageRefs: (imageRefs ?? {}) as Record<string, string>, debSha256 }));
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
    return { settings, secrets: secretOutputs, checkout, notices, recorded: recordOfLastUpdate(settings.mode) };
  });
}
