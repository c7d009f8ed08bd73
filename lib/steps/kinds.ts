/**
 * Every kind of pipeline step: its type token, the CLI command it runs, and how its request reaches
 * that command. Each kind is its own resource type, so `pulumi preview` and the state name what a
 * step does (`pulumi-nodejs:dynamic/deb:Build`), not just that it is a step. Pure.
 */

export interface StepKind {
  /** `pulumi-nodejs:dynamic/<module>:<type>`: dynamic resources are served by the Node.js provider. */
  readonly module: "deb" | "images" | "publish" | "supply" | "github";
  readonly type: string;
  /** The CLI's words: `npm run --silent cli -- <command>`. */
  readonly command: string;
  /** The environment variable the CLI reads the JSON request from. */
  readonly variable: string;
  /**
   * The trigger fields, in order, that made up the step's positional `triggers` before they were
   * named: a stack written then compares them instead of replacing the step.
   */
  readonly legacyTriggers: readonly string[];
}

const kind = (
  module: StepKind["module"],
  type: string,
  command: string,
  variable: string,
  legacyTriggers: string[] = [],
): StepKind => ({ module, type, command, variable, legacyTriggers });

export const STEP_KINDS = {
  debBuilder: kind("deb", "Builder", "image build", "RALPH_IMAGE_BUILD"),
  debBuild: kind("deb", "Build", "deb build", "RALPH_DEB_BUILD", ["fingerprint"]),
  debVerify: kind("deb", "Verify", "deb verify", "RALPH_DEB_VERIFY", ["debSha256"]),
  debPublishedCheck: kind("deb", "PublishedCheck", "deb check", "RALPH_DEB_CHECK"),
  imageContext: kind("images", "Context", "image stage", "RALPH_IMAGE_STAGE", ["debSha256"]),
  imageBuild: kind("images", "Build", "image build", "RALPH_IMAGE_BUILD"),
  imageSmoke: kind("images", "Smoke", "image smoke", "RALPH_IMAGE_SMOKE", ["image"]),
  imagePublishedCheck: kind("images", "PublishedCheck", "image check", "RALPH_IMAGE_CHECK"),
  imagePush: kind("images", "Push", "image push", "RALPH_IMAGE_PUSH"),
  aptlyPublish: kind("publish", "Aptly", "apt aptly", "RALPH_APTLY_PUBLISH", ["debSha256"]),
  aptIndexWait: kind("publish", "IndexWait", "apt wait", "RALPH_APT_WAIT", ["debSha256"]),
  attest: kind("supply", "Attest", "supply attest", "RALPH_SUPPLY_ATTEST", ["debSha256", "imageIds", "imageRefs"]),
  githubRelease: kind("github", "Release", "github release", "RALPH_GITHUB_RELEASE"),
} as const satisfies Record<string, StepKind>;

/** The one type every step had before each kind got its own: existing stacks alias from it. */
export const LEGACY_STEP_TYPE = "pulumi-nodejs:dynamic/pipeline:PipelineStep";

export const stepCommandLine = (step: Pick<StepKind, "command">) => `npm run --silent cli -- ${step.command}`;

/** The resource type of a kind of step, as the engine names it. */
export const stepType = (step: Pick<StepKind, "module" | "type">) =>
  `pulumi-nodejs:dynamic/${step.module}:${step.type}`;

/**
 * Steps whose work is on the machine that ran them (images, the deb, the staged context, attested
 * files): on another runner they are missing, and made again or pulled back. Drift is of what is
 * published only.
 */
const LOCAL_ARTIFACT_TYPES = new Set(
  [STEP_KINDS.debBuilder, STEP_KINDS.debBuild, STEP_KINDS.imageContext, STEP_KINDS.imageBuild, STEP_KINDS.attest].map(
    stepType,
  ),
);

export const isLocalArtifactType = (type: string) => LOCAL_ARTIFACT_TYPES.has(type);
