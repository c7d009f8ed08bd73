/** Runs the Pulumi program under the SDK's mocks (pulumi/examples testing-unit-ts) and resolves its outputs. */
import { createHash } from "node:crypto";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { stepRequestOf } from "../../cli/predictedOutputs";
import { vi } from "vitest";
import { useMockStack } from "../../cli/mockStack";
import type { Unknowns } from "../../cli/predictedOutputs";
import type { ImageBuildRequest } from "../../lib/images/build";

/** The value of an Output (or plain value) once known. */
export function resolve<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((done) => pulumi.output(value).apply((v) => done(v as pulumi.Unwrap<T>)));
}

/** Whether an Output is marked secret. */
export function isSecret(value: pulumi.Output<unknown>): Promise<boolean> {
  return (value as unknown as { isSecret: Promise<boolean> }).isSecret;
}

export interface ProgramRun {
  /** Stack outputs, resolved. */
  readonly outputs: Record<string, unknown>;
  /** Every resource the program declared (components included), in order. */
  readonly resources: pulumi.runtime.MockResourceArgs[];
}

/** inkpy's checkout for the tests (inkpy is its own project): a stand-in recipe. */
export const INKPY_CHECKOUT = join(__dirname, "..", "fixtures", "inkpy");

/** A release signs with real keys only: these pass the key checks (the mocks never sign). Secrets. */
export const RELEASE_SIGNING = {
  gpgSigningKey: "-----BEGIN PGP PRIVATE KEY BLOCK-----\ngpg-4711\n-----END PGP PRIVATE KEY BLOCK-----",
  signingKey: "-----BEGIN PRIVATE KEY-----\nsig-4711\n-----END PRIVATE KEY-----",
};

/**
 * What a release stack needs besides its checkout: inkpy's checkout and credentials, with
 * recognisable values to look for in outputs.
 */
export const RELEASE_SETTINGS = {
  inkpySource: INKPY_CHECKOUT,
  registryUsername: "bot",
  registryPassword: "pw-4711",
  packagecloudToken: "pc-4711",
  githubToken: "gh-4711",
  packagecloudGpgKey: "0123456789ABCDEF0123456789ABCDEF01234567",
  ...RELEASE_SIGNING,
};
/** The keys of RELEASE_SETTINGS set with --secret. */
export const SECRET_KEYS = [
  "registryPassword",
  "packagecloudToken",
  "githubToken",
  "ciPulumiPassphrase",
  "ciPulumiAccessToken",
  "signingKey",
  "gpgSigningKey",
];

/** The image id the mocked Docker provider reports for the local image built by resource `name`. */
export function mockImageId(name: string): string {
  return `sha256:${createHash("sha256").update(name).digest("hex")}`;
}

/** Known stand-ins for what only a real run knows, so tests can look for them in outputs. */
const TEST_UNKNOWNS: Unknowns = {
  debSha256: "c".repeat(64),
  imageId: mockImageId,
  registryDigest: `sha256:${"d".repeat(64)}`,
};

/**
 * Points the Pulumi runtime at mocks for `stack` with the given `ralph-release:` config; keys in
 * `secretKeys` are held as secrets, as `pulumi config set --secret` would. Returns the list every
 * declared resource (components included) is appended to.
 */
export function useStack(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<pulumi.runtime.MockResourceArgs[]> {
  return useMockStack(stack, config, secretKeys, TEST_UNKNOWNS);
}

/** Declares the program (index.ts) for `stack` under mocks and resolves its stack outputs. */
export async function runProgram(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<ProgramRun> {
  const resources = await useStack(stack, config, secretKeys);
  vi.resetModules();
  const program: Record<string, pulumi.Output<unknown>> = await import("../../index");
  const outputs = Object.fromEntries(
    await Promise.all(Object.entries(program).map(async ([name, output]) => [name, await resolve(output)] as const)),
  );
  // Let registrations still in flight (registerOutputs) reach this run's mock monitor before the next
  // run replaces it; otherwise they land on the wrong monitor as "unknown resource".
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return { outputs, resources };
}

/** The request a pipeline step carries in `variable`, on this machine's paths; undefined for any other resource. */
export function stepRequest<T>(
  resource: { type: string; inputs: Record<string, unknown> },
  variable: string,
): T | undefined {
  const step = stepRequestOf(resource, true);
  return step?.variable === variable ? (step.request as T) : undefined;
}

/** What an image build step (ImageBuild) was asked to build, or undefined for any other resource. */
export function imageBuildOf(resource: pulumi.runtime.MockResourceArgs): ImageBuildRequest | undefined {
  return stepRequest<ImageBuildRequest>(resource, "RALPH_IMAGE_BUILD");
}
