import * as pulumi from "./sdk";
import { type ImageAdoption, imageFingerprint } from "../lib/images/adopt";
import type { ImageBuildRequest } from "../lib/images/build";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";

export interface ImageBuildArgs {
  /** What to build; any change (the context's digest included) builds it again. */
  readonly request: pulumi.Input<ImageBuildRequest>;
  /** Where this run's project and checkouts are (never compared). */
  readonly roots: MachineRoots;
  /** The deb's builder image, or one of the images released (each its own resource type). */
  readonly purpose: "deb builder" | "release image";
  /**
   * Where the image is pushed, when it is: a runner without the image this step built pulls it back
   * from there by digest (the same id) instead of building another. Never compared.
   */
  readonly adoptFrom?: Omit<ImageAdoption, "fingerprint">;
  /** Build arguments that are other builds' image ids: the fingerprint names those builds instead. */
  readonly builtOn?: Record<string, ImageBuild>;
  /** The registry password, as a secret, for `adoptFrom` with a username. */
  readonly registryPassword?: pulumi.Output<string>;
}

/**
 * One local image build, as a pipeline step (`image build`): the classic builder through the docker
 * CLI, so any Docker-API engine works and no provider plugin is needed. Consumers take `imageId`.
 */
export class ImageBuild extends PipelineStep {
  /** The built image's id (`sha256:…`): how the next step refers to exactly this build. */
  readonly imageId: pulumi.Output<string>;

  /** What the image is built from, the same on any machine (lib/images/adopt imageFingerprint). */
  readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: ImageBuildArgs, opts?: pulumi.CustomResourceOptions) {
    const builtOn = pulumi.all(
      Object.fromEntries(Object.entries(args.builtOn ?? {}).map(([arg, build]) => [arg, build.fingerprint])),
    );
    const fingerprint = pulumi
      .all([args.request, builtOn])
      .apply(([request, on]) => imageFingerprint(request as ImageBuildRequest, args.roots, on));
    super(
      name,
      {
        kind: args.purpose === "deb builder" ? STEP_KINDS.debBuilder : STEP_KINDS.imageBuild,
        request: args.request,
        roots: args.roots,
        runtimeEnvironment: args.adoptFrom && {
          RALPH_IMAGE_ADOPT: pulumi
            .all([args.adoptFrom, fingerprint])
            .apply(([from, print]) => JSON.stringify({ ...from, fingerprint: print } satisfies ImageAdoption)),
          RALPH_REGISTRY_PASSWORD: args.registryPassword ?? "",
        },
      },
      opts,
    );
    this.fingerprint = fingerprint;
    this.imageId = this.result<{ id: string }>().apply((built) => built?.id);
  }
}
