import * as pulumi from "@pulumi/pulumi";
import type { ImageBuildRequest } from "../lib/images/build";
import { PipelineStep } from "./PipelineStep";

export interface ImageBuildArgs {
  /** What to build; any change (the context's digest included) builds it again. */
  readonly request: pulumi.Input<ImageBuildRequest>;
  /** This project's directory (the CLI). */
  readonly projectDir: string;
}

/**
 * One local image build, as a pipeline step (`image build`): the classic builder through the docker
 * CLI, so any Docker-API engine works and no provider plugin is needed. Consumers take `imageId`.
 */
export class ImageBuild extends PipelineStep {
  /** The built image's id (`sha256:…`): how the next step refers to exactly this build. */
  readonly imageId: pulumi.Output<string>;

  constructor(name: string, args: ImageBuildArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      name,
      {
        create: "npm run --silent cli -- image build",
        dir: args.projectDir,
        environment: { RALPH_IMAGE_BUILD: pulumi.output(args.request).apply((r) => JSON.stringify(r)) },
      },
      opts,
    );
    this.imageId = this.stdout.apply((stdout) => (JSON.parse(stdout) as { id: string }).id);
  }
}
