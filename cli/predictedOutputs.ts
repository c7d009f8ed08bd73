/**
 * What each provider reports after creating a resource, predicted from its inputs: the JSON the
 * pipeline's commands print, image ids, digests. The offline plan and the tests run the program
 * with these; values only a real run can know come from `unknowns`. Pure.
 */
import { wholeFingerprint } from "../lib/config/checks";
import type { GithubReleaseRequest } from "../lib/github/releaseClient";
import type { AttestRequest } from "../lib/supply/attest";
import { FILES } from "../lib/supply/files";
import { expandPaths, type MachineRoots } from "../lib/steps/machineRoots";

export interface DeclaredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/** Stand-ins for what only a real run knows. */
export interface Unknowns {
  /** The deb's sha256. */
  readonly debSha256: string;
  /** Local image id of the image built by resource `name`. */
  readonly imageId: (name: string) => string;
  /** Registry digest of a pushed image (`sha256:…`). */
  readonly registryDigest: string;
}

/**
 * A pipeline step's request variable and request (any dynamic resource with a `variable` input),
 * or undefined for any other resource. `onThisMachine` puts its paths back where they are.
 */
export function stepRequestOf(
  resource: Pick<DeclaredResource, "type" | "inputs">,
  onThisMachine = false,
): { variable: string; request: unknown } | undefined {
  const { type, inputs } = resource;
  if (!type.startsWith("pulumi-nodejs:dynamic/") || typeof inputs.variable !== "string") return undefined;
  const roots = (inputs.machine as { roots: MachineRoots } | undefined)?.roots;
  const request = onThisMachine && roots ? expandPaths(inputs.request, roots) : inputs.request;
  return { variable: inputs.variable, request };
}

export function predictedOutputs(resource: DeclaredResource, unknowns: Unknowns): Record<string, unknown> {
  const { type, inputs } = resource;
  if (type === "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage") {
    const filename = `${inputs.packageName}_${inputs.version}_${inputs.architecture}.deb`;
    return { filename, packageUrl: `/api/v1/package/${filename}.json`, adopted: false };
  }
  const step = stepRequestOf(resource);
  if (!step) return {};
  // Requests and results name paths from their roots ({project}/build/…), as the real steps do.
  const { variable, request } = step as { variable: string; request: any };
  if (variable === "RALPH_DEB_BUILD") {
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
        sha256: unknowns.debSha256,
        checksumsPath: `${dir}/SHA256SUMS`,
        buildLog: `${dir}/build.log`,
      }),
    };
  }
  if (variable === "RALPH_DEB_VERIFY") return { stdout: "[]" };
  if (variable === "RALPH_DEB_CHECK") return { stdout: "{}" };
  if (variable === "RALPH_IMAGE_STAGE") {
    const { contextDir, recipeDigest } = request;
    return {
      stdout: JSON.stringify({ context: contextDir, dockerfile: `${contextDir}/Dockerfile`, digest: recipeDigest }),
    };
  }
  if (variable === "RALPH_IMAGE_BUILD") {
    return { stdout: JSON.stringify({ id: unknowns.imageId(resource.name), tag: request.tag }) };
  }
  if (variable === "RALPH_IMAGE_SMOKE") return { stdout: JSON.stringify(request) };
  if (variable === "RALPH_IMAGE_CHECK") {
    const { targets } = request as { targets: { image: string }[] };
    return { stdout: JSON.stringify(Object.fromEntries(targets.map(({ image }) => [image, { kind: "push" }]))) };
  }
  if (variable === "RALPH_IMAGE_PUSH") {
    const { repository, tags } = request as { repository: string; tags: string[] };
    const digest = unknowns.registryDigest;
    return { stdout: JSON.stringify({ ref: `${repository}@${digest}`, digest, pushed: tags }) };
  }
  if (variable === "RALPH_APT_WAIT") return { stdout: JSON.stringify(request) };
  if (variable === "RALPH_SUPPLY_ATTEST") {
    const attest = request as AttestRequest;
    const debFile = attest.debPath.split("/").pop()!;
    const images = attest.images.map((image) => image.name);
    const files = [
      debFile,
      FILES.debSbom(debFile),
      ...images.map(FILES.imageSbom),
      FILES.provenance,
      FILES.provenanceBundle,
      FILES.sigstoreKey,
      ...images.map(FILES.imageBundle),
    ];
    const attached = attest.images
      .filter((image) => image.pushedRef)
      .map((image) => [image.name, unknowns.registryDigest]);
    return {
      stdout: JSON.stringify({
        artifactDir: attest.artifactDir,
        sigstoreSigning: { keyless: "keyless", key: "key", "throw-away": "throw-away key" }[
          attest.signing?.bundles ?? "throw-away"
        ],
        sigstoreSigner: attest.signing?.bundles === "keyless" ? "<the CI's identity>" : "key <hint>",
        checksumsSigning: { key: "gpgSigningKey", keyring: attest.gpgKey, "throw-away": "throw-away key" }[
          attest.signing?.checksums ?? "throw-away"
        ],
        checksumsFingerprint: "<fingerprint>",
        files,
        debSbom: FILES.debSbom(debFile),
        attached: Object.fromEntries(attached),
      }),
    };
  }
  if (variable === "RALPH_GITHUB_RELEASE") {
    const release = request as GithubReleaseRequest;
    return {
      stdout: JSON.stringify({
        releaseId: release.releaseId ?? 0,
        url: `https://github.com/${release.repository}/releases/tag/${release.tag}`,
        tag: release.tag,
        prerelease: false,
        adopted: release.releaseId !== undefined,
        assets: {},
        uploaded: release.files,
      }),
    };
  }
  if (variable === "RALPH_APTLY_PUBLISH") {
    return {
      stdout: JSON.stringify({
        publicDir: `${request.rootDir}/public`,
        prefix: request.distro,
        release: request.release,
        signed: request.gpgKey !== undefined,
        packageRef: "ralph-core",
        // gpg answers with the primary key's fingerprint: a key named by it is its own answer.
        keyFingerprint:
          request.gpgKey === undefined
            ? undefined
            : (wholeFingerprint(request.gpgKey) ?? `<fingerprint of ${request.gpgKey}>`),
      }),
    };
  }
  return {};
}
