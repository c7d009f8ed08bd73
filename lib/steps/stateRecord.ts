/**
 * What a release stack has published, read from its own resources' state (`pulumi stack export`)
 * rather than from its outputs: the engine writes a resource's state the moment its step succeeds,
 * even when the update as a whole then fails, while the stack's outputs stay at the last complete
 * update. So a retry after a failure knows the version tags its earlier run wrote. Pure.
 */
import type { DebArtifact } from "../deb/build";
import type { PushResult } from "../images/publish";
import { LEGACY_STEP_TYPE, STEP_KINDS, type StepKind, stepCommandLine, stepType } from "./kinds";

/** A release stack's record of what it published. */
export interface StackRecord {
  /** `<repository>:<tag>` → the manifest digest this stack pushed there. */
  readonly versionTags: Readonly<Record<string, string>>;
  /** sha256 of the deb of this version that this stack built. */
  readonly debSha256?: string;
}

export const NO_RECORD: StackRecord = { versionTags: {} };

interface ExportedResource {
  readonly type?: string;
  /** The inputs the resource was last given (a packagecloud package's: the deb this stack sent). */
  readonly inputs?: { readonly version?: unknown; readonly sha256?: unknown };
  readonly outputs?: { readonly stdout?: unknown; readonly create?: unknown };
}

const PACKAGECLOUD_TYPE = "pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage";

/** A step of the kind `kind`: by its type, or, in a stack written before kinds had types, by its command. */
const isStep = (resource: ExportedResource, kind: StepKind) =>
  resource.type === stepType(kind) ||
  (resource.type === LEGACY_STEP_TYPE && resource.outputs?.create === stepCommandLine(kind));

function resultOf<T>(resource: ExportedResource): T | undefined {
  const stdout = resource.outputs?.stdout;
  if (typeof stdout !== "string" || stdout === "") return undefined;
  try {
    return JSON.parse(stdout) as T;
  } catch {
    return undefined;
  }
}

/**
 * The record in a stack's exported deployment (`pulumi stack export` output, parsed), for the
 * version `debianVersion`. A push result of before results named their tag is no evidence of one.
 */
export function recordFromDeployment(exported: unknown, debianVersion: string): StackRecord {
  const resources =
    (exported as { deployment?: { resources?: ExportedResource[] } } | undefined)?.deployment?.resources ?? [];
  const versionTags: Record<string, string> = {};
  let debSha256: string | undefined;
  for (const resource of resources) {
    if (isStep(resource, STEP_KINDS.imagePush)) {
      const pushed = resultOf<PushResult>(resource);
      // A tag a refresh found moved stays recorded as what this stack pushed: the refusal names it.
      if (!pushed?.tag || !pushed.digest) continue;
      const repository = pushed.ref.slice(0, pushed.ref.lastIndexOf("@"));
      versionTags[`${repository}:${pushed.tag}`] = pushed.digest;
    } else if (isStep(resource, STEP_KINDS.debBuild)) {
      const built = resultOf<DebArtifact>(resource);
      if (built?.version === debianVersion) debSha256 = built.sha256;
    } else if (resource.type === PACKAGECLOUD_TYPE && resource.inputs?.version === debianVersion) {
      // What this stack sent (its inputs; a refresh rewrites the outputs with what packagecloud holds):
      // the record on a runner whose refresh dropped the deb build, gone from its build/.
      if (typeof resource.inputs.sha256 === "string") debSha256 ??= resource.inputs.sha256;
    }
  }
  return { versionTags, ...(debSha256 ? { debSha256 } : {}) };
}
