/**
 * What each provider reports after creating a resource, predicted from its inputs: the JSON the
 * pipeline's commands print, image ids, digests. The offline plan and the tests run the program
 * with these; values only a real run can know come from `unknowns`. Pure.
 */
import type { AttestRequest } from "../lib/supply/attest";
import { FILES } from "../lib/supply/files";

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

export function predictedOutputs(resource: DeclaredResource, unknowns: Unknowns): Record<string, unknown> {
  const { type, inputs } = resource;
  // A first update: the stack has exported nothing yet.
  if (type === "pulumi:pulumi:StackReference") return { outputs: {}, secretOutputNames: [] };
  if (type === "github:index/release:Release") {
    return { htmlUrl: `https://github.com/<owner>/${inputs.repository}/releases/tag/${inputs.tagName}`, releaseId: 0 };
  }
  if (type === "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage") {
    const filename = `${inputs.packageName}_${inputs.version}_${inputs.architecture}.deb`;
    return { filename, packageUrl: `/api/v1/package/${filename}.json`, adopted: false };
  }
  if (type !== "pulumi-nodejs:dynamic/pipeline:PipelineStep") return {};
  const environment = (inputs.environment ?? {}) as Record<string, string>;
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
        sha256: unknowns.debSha256,
        checksumsPath: `${dir}/SHA256SUMS`,
        buildLog: `${dir}/build.log`,
      }),
    };
  }
  if (environment.RALPH_DEB_VERIFY) return { stdout: "[]" };
  if (environment.RALPH_DEB_CHECK) return { stdout: "{}" };
  if (environment.RALPH_IMAGE_STAGE) {
    const { contextDir, recipeDigest } = JSON.parse(environment.RALPH_IMAGE_STAGE);
    return {
      stdout: JSON.stringify({ context: contextDir, dockerfile: `${contextDir}/Dockerfile`, digest: recipeDigest }),
    };
  }
  if (environment.RALPH_IMAGE_BUILD) {
    const { tag } = JSON.parse(environment.RALPH_IMAGE_BUILD);
    return { stdout: JSON.stringify({ id: unknowns.imageId(resource.name), tag }) };
  }
  if (environment.RALPH_IMAGE_SMOKE) return { stdout: environment.RALPH_IMAGE_SMOKE };
  if (environment.RALPH_IMAGE_CHECK) {
    const { targets } = JSON.parse(environment.RALPH_IMAGE_CHECK) as { targets: { image: string }[] };
    return { stdout: JSON.stringify(Object.fromEntries(targets.map(({ image }) => [image, { kind: "push" }]))) };
  }
  if (environment.RALPH_IMAGE_PUSH) {
    const { repository, tags } = JSON.parse(environment.RALPH_IMAGE_PUSH) as { repository: string; tags: string[] };
    const digest = unknowns.registryDigest;
    return { stdout: JSON.stringify({ ref: `${repository}@${digest}`, digest, pushed: tags }) };
  }
  if (environment.RALPH_APT_WAIT) return { stdout: environment.RALPH_APT_WAIT };
  if (environment.RALPH_SUPPLY_ATTEST) {
    const request = JSON.parse(environment.RALPH_SUPPLY_ATTEST) as AttestRequest;
    const debFile = request.debPath.split("/").pop()!;
    const images = request.images.map((image) => image.name);
    const files = [
      debFile,
      FILES.debSbom(debFile),
      ...images.map(FILES.imageSbom),
      FILES.provenance,
      FILES.provenanceBundle,
      FILES.sigstoreKey,
      ...images.map(FILES.imageBundle),
    ];
    const attached = request.images
      .filter((image) => image.pushedRef)
      .map((image) => [image.name, unknowns.registryDigest]);
    return {
      stdout: JSON.stringify({
        artifactDir: request.artifactDir,
        sigstoreSigning: "throw-away key",
        checksumsSigning: request.gpgKey ?? "throw-away key",
        files,
        debSbom: FILES.debSbom(debFile),
        attached: Object.fromEntries(attached),
      }),
    };
  }
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
