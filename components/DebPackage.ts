import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "./sdk";
import type { Settings } from "../lib/config";
import {
  type DebArtifact,
  type DebBuildRequest,
  buildTriggers,
  buildsFrontEnd,
  directoryDigest,
  workingTreeId,
} from "../lib/deb/build";
import type { CheckResult, VerifyRequest } from "../lib/deb/verify";
import { buildDepends, distributionProfile, renderControl } from "../lib/deb/distributions";
import type { CheckoutVersion, Mode } from "../lib/version/version";
import { builderBuildArgs } from "../lib/deb/builder";
import { ImageBuild } from "./ImageBuild";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";

export interface DebPackageArgs {
  /** The Ralph checkout (absolute path). */
  readonly source: string;
  /** Its version; the deb gets `debianVersion`. */
  readonly checkout: CheckoutVersion;
  /** `<distro>/<release>`. */
  readonly distribution: string;
  /** Builder, base image, Python/Node minimums, pip arguments. */
  readonly deb: Settings["deb"];
  /** Where this run's project (recipes in debian/ and docker/, the CLI) and checkout are. */
  readonly roots: MachineRoots;
  /** Artifacts go to `<outDir>/<debianVersion>/`. */
  readonly outDir: string;
  /** The stack's mode: a release's artifact is never overwritten. */
  readonly mode: Mode;
  /** Checks that must pass before anything is built (a release's check of the registry). */
  readonly after?: pulumi.Resource[];
}

/**
 * The ralph-core .deb: an optional builder image, the build (a command re-run only when what the deb
 * is made of changes), and the verification gate that publishing depends on.
 */
export class DebPackage extends pulumi.ComponentResource {
  /** The builder image by id (`sha256:…`); undefined with the `host` builder. */
  readonly builderImage?: pulumi.Output<string>;
  /** Hash of exactly what the deb is built from; the build's trigger. */
  readonly fingerprint: pulumi.Output<string>;
  /** Git tree id of the checkout as built (uncommitted changes included). */
  readonly treeId: string;
  readonly artifact: pulumi.Output<DebArtifact>;
  readonly path: pulumi.Output<string>;
  readonly sha256: pulumi.Output<string>;
  readonly checksumsPath: pulumi.Output<string>;
  /** The gate's checks; resolves only once every check passed. */
  readonly verification: pulumi.Output<CheckResult[]>;
  /** The sha256 of the deb that passed the gate: what publishing steps consume. */
  readonly verifiedSha256: pulumi.Output<string>;

  constructor(name: string, args: DebPackageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:deb:DebPackage", name, {}, opts);
    const { checkout, deb, roots } = args;
    const projectDir = roots.project;
    const debianDir = join(projectDir, "debian");
    const profile = distributionProfile(args.distribution);
    if (!profile) throw new Error(`no packaging profile for ${args.distribution}`);

    this.treeId = workingTreeId(args.source);
    const baseRequest: DebBuildRequest = {
      source: args.source,
      commit: checkout.commit,
      treeId: this.treeId,
      debianVersion: checkout.debianVersion,
      version: checkout.version,
      distribution: args.distribution,
      pythonMinimum: deb.pythonMinimum,
      nodeMinimum: deb.nodeMinimum,
      pipArgs: deb.pipArgs,
      // Only when pinned: the request of a stack without a pin stays as it was.
      ...(deb.pipVersion ? { pipVersion: deb.pipVersion } : {}),
      frontendAssets: deb.frontendAssets,
      extraBuildDepends: deb.extraBuildDepends,
      extraDepends: deb.extraDepends,
      debianDir,
      outDir: args.outDir,
      keepExisting: args.mode === "release",
    };

    let recipeDigest = "host";
    let builder: ImageBuild | undefined;
    if (deb.builder === "container") {
      const dockerfile = join(projectDir, "docker", "deb-builder", "Dockerfile");
      const control = renderControl(readFileSync(join(debianDir, "control.in"), "utf8"), {
        profile,
        pythonMinimum: deb.pythonMinimum,
        nodeMinimum: buildsFrontEnd(args.source, deb.frontendAssets) ? deb.nodeMinimum : undefined,
        extraBuildDepends: deb.extraBuildDepends,
        extraDepends: deb.extraDepends,
      });
      const recipe = { buildDepends: buildDepends(control), nodeAptSource: deb.nodeAptSource };
      const buildArgs = builderBuildArgs({ ...recipe, baseImage: deb.baseImage });
      recipeDigest = JSON.stringify({ dockerfile: readFileSync(dockerfile, "utf8"), buildArgs });
      // A distribution whose archive lacks what the build needs (bionic: a dh-virtualenv >= 1.2) gets
      // the builder on a base that adds it, as Ralph's own builder does: base image plus the PPA.
      const base = profile.builderPpa ? this.builderBase(name, profile.builderPpa, deb.baseImage, args) : undefined;
      if (base) recipeDigest = JSON.stringify({ ...JSON.parse(recipeDigest), base: base.recipe });
      const context = join(projectDir, "docker", "deb-builder");
      const tag = `ralph-release/deb-builder:${profile.name.replace("/", "-")}`;
      builder = new ImageBuild(
        `${name}-builder`,
        {
          roots,
          purpose: "deb builder",
          request: pulumi.output(base?.build.imageId ?? deb.baseImage).apply((baseImage) => ({
            context,
            dockerfile,
            buildArgs: base ? builderBuildArgs({ ...recipe, baseImage }) : buildArgs,
            tag,
            contextDigest: directoryDigest(context),
          })),
          builtOn: base ? { BASE_IMAGE: base.build } : undefined,
        },
        { parent: this, dependsOn: args.after },
      );
      // The builder is referred to by content (its id), not by tag.
      this.builderImage = builder.imageId;
    }

    const request = pulumi.output(this.builderImage).apply((builderImage) => ({ ...baseRequest, builderImage }));
    const triggers = request.apply((r) => buildTriggers(r, recipeDigest));
    this.fingerprint = triggers.fingerprint;

    const build = new PipelineStep(
      `${name}-build`,
      {
        kind: STEP_KINDS.debBuild,
        request,
        triggers: {
          fingerprint: triggers.fingerprint,
          commit: triggers.commit,
          tree: triggers.tree,
          packaging: triggers.packaging,
          builder: triggers.builder,
        },
        roots,
      },
      { parent: this, dependsOn: [...(args.after ?? []), ...(builder ? [builder] : [])] },
    );
    this.artifact = build.result<DebArtifact>();
    this.path = this.artifact.path;
    this.sha256 = this.artifact.sha256;
    this.checksumsPath = this.artifact.checksumsPath;

    const verifyRequest = pulumi
      .all([this.artifact, this.builderImage])
      .apply(([artifact, checkerImage]): VerifyRequest => ({
        debPath: artifact.path,
        expected: { packageName: artifact.packageName, version: artifact.version, architecture: artifact.architecture },
        checkerImage,
        installImage: deb.baseImage,
      }));
    const verify = new PipelineStep(
      `${name}-verify`,
      {
        kind: STEP_KINDS.debVerify,
        request: verifyRequest,
        triggers: { debSha256: this.sha256 },
        roots,
      },
      { parent: this, dependsOn: [build] },
    );
    this.verification = verify.result<CheckResult[]>();
    this.verifiedSha256 = pulumi.all([this.sha256, this.verification]).apply(([sha256]) => sha256);

    this.registerOutputs({
      builderImage: this.builderImage,
      fingerprint: this.fingerprint,
      path: this.path,
      sha256: this.sha256,
      checksumsPath: this.checksumsPath,
      verifiedSha256: this.verifiedSha256,
    });
  }

  /** The builder's base for a profile with a PPA: `baseImage` plus the PPA (docker/deb-builder-ppa). */
  private builderBase(
    name: string,
    ppa: string,
    baseImage: string,
    args: DebPackageArgs,
  ): { build: ImageBuild; recipe: unknown } {
    const context = join(args.roots.project, "docker", "deb-builder-ppa");
    const dockerfile = join(context, "Dockerfile");
    const buildArgs = { BASE_IMAGE: baseImage, PPA: ppa };
    const build = new ImageBuild(
      `${name}-builder-base`,
      {
        roots: args.roots,
        purpose: "deb builder",
        request: {
          context,
          dockerfile,
          buildArgs,
          tag: `ralph-release/deb-builder-base:${args.distribution.replace("/", "-")}`,
          contextDigest: directoryDigest(context),
        },
      },
      { parent: this, dependsOn: args.after },
    );
    return { build, recipe: { dockerfile: readFileSync(dockerfile, "utf8"), buildArgs } };
  }
}
