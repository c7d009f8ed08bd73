import * as pulumi from "./sdk";
import type { Settings } from "../lib/config";
import { ARCHITECTURE, debArtifactPath, PACKAGE_NAME } from "../lib/deb/build";
import { builtImages } from "../lib/images/names";
import { type PublishedCheckRequest, versionTagTarget } from "../lib/images/publish";
import type { PublishedDebRequest } from "../lib/publish/published";
import type { CheckoutVersion } from "../lib/version/version";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";
import type { StackRecord } from "../lib/steps/stateRecord";
import type { StackSecrets } from "./stackInputs";

export interface PublishedCheckArgs {
  readonly settings: Settings;
  readonly checkout: CheckoutVersion;
  /** Where this run's project is (never compared). */
  readonly roots: MachineRoots;
  /** Where each version's artifacts (and the record of its image pushes) live. */
  readonly outDir: string;
  readonly secrets: StackSecrets;
  /** What this stack published, from its resources' state. */
  readonly recorded: StackRecord;
}

/** What the registry steps (this check, each push) learn at run time: the password and the stack's record. */
export function registryStepEnvironment(
  password: pulumi.Output<string> | undefined,
  recorded: StackRecord,
): Record<string, pulumi.Input<string>> {
  return {
    RALPH_REGISTRY_PASSWORD: password ?? "",
    RALPH_RECORDED_VERSION_TAGS: JSON.stringify(recorded.versionTags),
  };
}

/**
 * A release's first steps: asks every deb target and the registry whether this version is already
 * published, and refuses, before anything is built, what this stack did not publish itself (naming
 * both checksums or digests). What it did publish is adopted by the later steps, never sent twice.
 */
export class PublishedCheck extends pulumi.ComponentResource {
  /** The steps every build waits for. */
  readonly steps: PipelineStep[];

  constructor(name: string, args: PublishedCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:release:PublishedCheck", name, {}, opts);
    const { settings, checkout, roots } = args;
    const { distro, release } = settings.distribution;
    const { debTargets } = settings.publish;
    this.steps = [];
    if (debTargets.length > 0) {
      const request: PublishedDebRequest = {
        packageName: PACKAGE_NAME,
        version: checkout.debianVersion,
        architecture: ARCHITECTURE,
        distro,
        release,
        packagecloud: debTargets.includes("packagecloud") ? settings.packagecloud : undefined,
        aptly: debTargets.includes("aptly") ? { rootDir: settings.aptly.root } : undefined,
        localDebPath: debArtifactPath(args.outDir, checkout.debianVersion),
      };
      this.steps.push(
        new PipelineStep(
          `${name}-deb`,
          {
            kind: STEP_KINDS.debPublishedCheck,
            request,
            roots,
            runtimeEnvironment: {
              RALPH_PACKAGECLOUD_TOKEN: args.secrets.packagecloudToken ?? "",
              RALPH_RECORDED_DEB_SHA256: args.recorded.debSha256 ?? "",
            },
          },
          { parent: this },
        ),
      );
    }
    if (settings.publish.images && settings.images.build) {
      const request: PublishedCheckRequest = {
        registry: settings.images.registry,
        username: settings.images.username,
        targets: builtImages(settings).map((image) => versionTagTarget(settings.images, checkout, args.outDir, image)),
      };
      this.steps.push(
        new PipelineStep(
          `${name}-images`,
          {
            kind: STEP_KINDS.imagePublishedCheck,
            request,
            roots,
            runtimeEnvironment: registryStepEnvironment(args.secrets.registryPassword, args.recorded),
          },
          { parent: this },
        ),
      );
    }
    this.registerOutputs({});
  }
}
