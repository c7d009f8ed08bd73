import { join } from "node:path";
import * as pulumi from "./sdk";
import type { Settings } from "../lib/config";
import { type AptSource, type ImageName, imageRepository, imageTags } from "../lib/images/names";
import { contextDigest, ralphContextDir, type SmokeKind, type StagedContext } from "../lib/images/build";
import { directoryDigest } from "../lib/deb/build";
import { type PushRequest, type PushResult, versionTagTarget } from "../lib/images/publish";
import type { CheckoutVersion } from "../lib/version/version";
import { ImageBuild } from "./ImageBuild";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";
import { registryStepEnvironment } from "./PublishedCheck";
import type { StackRecord } from "../lib/steps/stateRecord";

export interface RalphImagesArgs {
  readonly settings: Settings;
  readonly checkout: CheckoutVersion;
  /** The verified deb (snapshot images install it). */
  readonly debPath: pulumi.Output<string>;
  /** Resolves only once the deb passed its gate: the ralph image waits for it. */
  readonly verifiedDebSha256: pulumi.Output<string>;
  /** Release: the apt repository the ralph image installs ralph-core from. */
  readonly aptSource?: AptSource;
  /** Release: the fingerprint the ralph image requires of `aptSource`'s downloaded key. */
  readonly aptKeyFingerprint?: pulumi.Input<string>;
  /** Release: what makes the version installable from `aptSource` (the index wait). */
  readonly installableAfter: pulumi.Resource[];
  /** Where this run's project (recipes in docker/, the CLI) and checkouts are. */
  readonly roots: MachineRoots;
  readonly outDir: string;
  /** Registry password, as a secret; with `settings.images.username` it logs in to push. */
  readonly registryPassword?: pulumi.Output<string>;
  /** Checks that must pass before any image is built (a release's check of the registry). */
  readonly after?: pulumi.Resource[];
  /** A release's record of what this stack pushed, from its resources' state. */
  readonly recorded: StackRecord;
}

const SMOKE_KIND: Record<ImageName, SmokeKind> = { ralph: "ralph", "ralph-static-nginx": "static", inkpy: "inkpy" };

/**
 * ralph, ralph-static-nginx and inkpy: each built locally, smoke-tested, and only then pushed with
 * its tags. The static image is built from the exact ralph image just built (by id), never a tag.
 */
export class RalphImages extends pulumi.ComponentResource {
  /** Local image id of each build (`sha256:…`). */
  readonly localIds: pulumi.Output<Record<string, string>>;
  /** `<repository>@sha256:…` of each pushed image; empty when nothing is pushed. */
  readonly pushedRefs: pulumi.Output<Record<string, string>>;
  /** Tags each image gets. */
  readonly tags: string[];

  constructor(name: string, args: RalphImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:images:RalphImages", name, {}, opts);
    const { settings, checkout, roots } = args;
    const projectDir = roots.project;
    const { images } = settings;
    const snapshot = settings.mode === "snapshot";
    this.tags = imageTags(settings.mode, checkout.version, checkout.newestOnMain);
    const repository = (image: ImageName) => imageRepository(images.registry, images.namespace, image);
    const labels = { RALPH_VERSION: checkout.version, VCS_REF: checkout.commit, BUILD_DATE: checkout.commitTime };
    const { release } = settings.distribution;

    // ralph's context: the recipe plus, for a snapshot, the verified deb.
    const stage = new PipelineStep(
      `${name}-ralph-context`,
      {
        kind: STEP_KINDS.imageContext,
        request: pulumi.all([args.debPath, args.verifiedDebSha256]).apply(([debPath]) => ({
          recipeDir: join(projectDir, "docker", "ralph"),
          recipeDigest: directoryDigest(join(projectDir, "docker", "ralph")),
          contextDir: ralphContextDir(args.outDir, checkout.debianVersion),
          debPath: snapshot ? debPath : undefined,
        })),
        triggers: { debSha256: args.verifiedDebSha256 },
        roots,
      },
      { parent: this },
    );
    const staged = stage.result<StagedContext>();

    const build = (
      image: ImageName | "inkpy-unlabelled",
      from: { context: pulumi.Input<string>; dockerfile: pulumi.Input<string>; digest: pulumi.Input<string> },
      buildArgs: pulumi.Input<Record<string, pulumi.Input<string>>>,
      dependsOn: pulumi.Resource[],
      builtOn: Record<string, ImageBuild> = {},
    ) =>
      new ImageBuild(
        `${name}-${image}`,
        {
          roots,
          purpose: "release image",
          // A pushed image comes back from the registry on a runner that lacks it (the unlabelled
          // inkpy stays local: its labelled image is the one pushed).
          ...(settings.publish.images && image !== "inkpy-unlabelled"
            ? {
                adoptFrom: {
                  registry: images.registry,
                  username: images.username,
                  reference: `${repository(image)}:${this.tags[0]}`,
                },
                registryPassword: args.registryPassword,
              }
            : {}),
          builtOn,
          request: pulumi
            .all([from.context, from.dockerfile, from.digest, pulumi.output(buildArgs)])
            .apply(([context, dockerfile, contextDigest, args]) => ({
              context,
              dockerfile,
              contextDigest,
              buildArgs: args,
              // The unlabelled inkpy stays local: only its labelled layer is named for the registry.
              tag:
                image === "inkpy-unlabelled"
                  ? `ralph-release/inkpy-unlabelled:${this.tags[0]}`
                  : `${repository(image)}:${this.tags[0]}`,
            })),
        },
        { parent: this, dependsOn: [...(args.after ?? []), ...dependsOn] },
      );
    const recipe = (dir: string) => ({
      context: join(projectDir, "docker", dir),
      dockerfile: join(projectDir, "docker", dir, "Dockerfile"),
      digest: directoryDigest(join(projectDir, "docker", dir)),
    });

    const ralph = build(
      "ralph",
      { context: staged.context, dockerfile: staged.dockerfile, digest: staged.digest },
      {
        ...labels,
        BASE_IMAGE: settings.deb.baseImage,
        DEBIAN_VERSION: checkout.debianVersion,
        SNAPSHOT: snapshot ? "1" : "0",
        APT_SOURCE: args.aptSource ? `${args.aptSource.baseUrl}/ ${release} main` : "",
        APT_KEY_URL: args.aptSource?.keyUrl ?? "",
        ...(args.aptSource ? { APT_KEY_FINGERPRINT: args.aptKeyFingerprint ?? "" } : {}),
      },
      [stage, ...args.installableAfter],
    );
    // inkpy from its own checkout, when there is one (settings.notices says when it is left out).
    const unlabelled =
      images.inkpy &&
      build(
        "inkpy-unlabelled",
        { ...images.inkpy, digest: contextDigest(images.inkpy.context, images.inkpy.dockerfile) },
        { ...labels, BASE_IMAGE: settings.deb.baseImage },
        [],
      );
    const inkpy =
      unlabelled &&
      build(
        "inkpy",
        recipe("labels"),
        {
          ...labels,
          IMAGE: unlabelled.imageId,
          TITLE: "inkpy",
          DESCRIPTION: "Ralph's document rendering service",
        },
        [],
        { IMAGE: unlabelled },
      );
    // static copies from exactly this ralph build, by id.
    const ralphSmoke = this.smoke(name, "ralph", ralph, roots);
    const staticImage = build(
      "ralph-static-nginx",
      recipe("static"),
      {
        ...labels,
        RALPH_IMAGE: ralph.imageId,
        NGINX_IMAGE: images.nginxImage,
      },
      [ralphSmoke],
      { RALPH_IMAGE: ralph },
    );

    const built: [ImageName, ImageBuild][] = [
      ["ralph", ralph],
      ["ralph-static-nginx", staticImage],
      ...(inkpy ? [["inkpy", inkpy] as [ImageName, ImageBuild]] : []),
    ];
    // Every image passed its smoke test before any is pushed: no half-published release.
    const allSmoked = built.map(([image, local]) =>
      image === "ralph"
        ? ralphSmoke
        : this.smoke(name, image, local, roots, image === "ralph-static-nginx" ? ralph : undefined),
    );
    this.localIds = pulumi.all(Object.fromEntries(built.map(([image, local]) => [image, local.imageId])));

    this.pushedRefs = pulumi.output<Record<string, string>>({});
    if (settings.publish.images) {
      // A release version tag is decided right before its push: free, already this stack's, or refused.
      const runtimeEnvironment = registryStepEnvironment(args.registryPassword, args.recorded);
      const refs: Partial<Record<ImageName, pulumi.Output<string>>> = {};
      for (const [image, local] of built) {
        const request = local.imageId.apply((localImage): PushRequest => ({
          registry: images.registry,
          username: images.username,
          image,
          localImage,
          repository: repository(image),
          tags: this.tags,
          // Only the release's version tag is written once (a snapshot's tags are its own to rewrite).
          versionTag: snapshot ? undefined : versionTagTarget(settings.images, checkout, args.outDir, image),
        }));
        const push = new PipelineStep(
          `${name}-${image}-push`,
          {
            kind: STEP_KINDS.imagePush,
            request,
            roots,
            runtimeEnvironment,
          },
          { parent: this, dependsOn: allSmoked },
        );
        refs[image] = push.result<PushResult>().ref;
      }
      this.pushedRefs = pulumi.all(refs as Record<string, pulumi.Output<string>>);
    }

    this.registerOutputs({ localIds: this.localIds, pushedRefs: this.pushedRefs, tags: this.tags });
  }

  /** `probe`: the image the static smoke asks nginx from (the ralph image: it has python3). */
  private smoke(
    name: string,
    image: ImageName,
    built: ImageBuild,
    roots: MachineRoots,
    probe?: ImageBuild,
  ): PipelineStep {
    return new PipelineStep(
      `${name}-${image}-smoke`,
      {
        kind: STEP_KINDS.imageSmoke,
        request: pulumi
          .all([built.imageId, probe?.imageId])
          .apply(([id, probeImage]) => ({ kind: SMOKE_KIND[image], image: id, ...(probeImage ? { probeImage } : {}) })),
        triggers: { image: built.imageId },
        roots,
      },
      { parent: this },
    );
  }
}
