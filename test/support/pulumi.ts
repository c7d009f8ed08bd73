/** Runs the Pulumi program under the SDK's mocks (pulumi/examples testing-unit-ts) and resolves its outputs. */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";

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

/** What a release stack needs besides its checkout, with recognisable values to look for in outputs. */
export const RELEASE_CREDENTIALS = {
  registryUsername: "bot",
  registryPassword: "pw-4711",
  packagecloudToken: "pc-4711",
  githubToken: "gh-4711",
};
/** The keys of RELEASE_CREDENTIALS set with --secret. */
export const SECRET_KEYS = [
  "registryPassword",
  "packagecloudToken",
  "githubToken",
  "ciPulumiPassphrase",
  "ciPulumiAccessToken",
];

/** The image id the mocked Docker provider reports for the local image built by resource `name`. */
export function mockImageId(name: string): string {
  return `sha256:${createHash("sha256").update(name).digest("hex")}`;
}

/**
 * What providers would report after creating a resource: the builder image's id, and the JSON the
 * deb commands print (derived from their request, so the wiring between them is exercised).
 */
function providerOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  if (args.type === "docker:index/image:Image") return { repoDigest: mockImageId(args.name) };
  if (args.type === "docker:index/registryImage:RegistryImage") return { sha256Digest: `sha256:${"d".repeat(64)}` };
  if (args.type === "github:index/release:Release") {
    const repository = `${args.inputs.repository}`;
    return { htmlUrl: `https://github.com/allegro/${repository}/releases/tag/${args.inputs.tagName}`, releaseId: 4711 };
  }
  if (args.type === "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage") {
    const filename = `${args.inputs.packageName}_${args.inputs.version}_${args.inputs.architecture}.deb`;
    return { filename, packageUrl: `/api/v1/package/${filename}.json`, adopted: false };
  }
  if (args.type !== "command:local:Command") return {};
  const environment = args.inputs.environment as Record<string, string>;
  if (environment.RALPH_DEB_BUILD) {
    const request = JSON.parse(environment.RALPH_DEB_BUILD);
    const fileName = `ralph-core_${request.debianVersion}_amd64.deb`;
    const dir = `${request.outDir}/${request.debianVersion}`;
    return {
      stdout: JSON.stringify({
        path: `${dir}/${fileName}`,
        fileName,
        packageName: "ralph-core",
        version: request.debianVersion,
        architecture: "amd64",
        size: 1,
        sha256: "c".repeat(64),
        checksumsPath: `${dir}/SHA256SUMS`,
        buildLog: `${dir}/build.log`,
      }),
    };
  }
  if (environment.RALPH_DEB_VERIFY) return { stdout: "[]" };
  if (environment.RALPH_IMAGE_STAGE) {
    const { contextDir } = JSON.parse(environment.RALPH_IMAGE_STAGE);
    return { stdout: JSON.stringify({ context: contextDir, dockerfile: `${contextDir}/Dockerfile` }) };
  }
  if (environment.RALPH_IMAGE_SMOKE) return { stdout: environment.RALPH_IMAGE_SMOKE };
  if (environment.RALPH_APT_WAIT) return { stdout: environment.RALPH_APT_WAIT };
  if (environment.RALPH_APTLY_PUBLISH) {
    const request = JSON.parse(environment.RALPH_APTLY_PUBLISH);
    return {
      stdout: JSON.stringify({
        publicDir: `${request.rootDir}/public`,
        prefix: request.distro,
        release: request.release,
        signed: request.gpgKey !== undefined,
        packageRef: "ralph-core",
      }),
    };
  }
  return {};
}

/**
 * Points the Pulumi runtime at mocks for `stack` with the given `ralph-release:` config; keys in
 * `secretKeys` are held as secrets, as `pulumi config set --secret` would. Returns the list every
 * declared resource (components included) is appended to.
 */
export async function useStack(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<pulumi.runtime.MockResourceArgs[]> {
  const resources: pulumi.runtime.MockResourceArgs[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources.push(args);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...providerOutputs(args) } };
      },
      call: (args) => args.inputs,
    },
    "ralph-release",
    stack,
    false,
  );
  const full = (key: string) => `ralph-release:${key}`;
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [full(k), v])),
    secretKeys.map(full),
  );
  return resources;
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
