import { dirname } from "node:path";
import * as pulumi from "./sdk";
import type { Settings } from "../lib/config";
import { type ImageName, imageRepository } from "../lib/images/names";
import type { AttestRequest, AttestResult } from "../lib/supply/attest";
import { provenanceSettings, ralphRef } from "../lib/supply/provenance";
import type { CheckoutVersion } from "../lib/version/version";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";
import type { StackSecrets } from "./stackInputs";

/** Inside the ralph image, Ralph's venv (ralph-core's); the other images have none of their own. */
const IMAGE_VENVS: Record<ImageName, string[]> = { ralph: ["/opt/ralph"], "ralph-static-nginx": [], inkpy: [] };

export interface AttestationsArgs {
  readonly settings: Settings;
  readonly checkout: CheckoutVersion;
  /** Where this run's project (the CLI; its commit goes into the provenance) and checkouts are. */
  readonly roots: MachineRoots;
  /** The deb that passed the gate, and its sha256 (the step waits for the gate through it). */
  readonly debPath: pulumi.Output<string>;
  readonly verifiedDebSha256: pulumi.Output<string>;
  /** The deb builder's image id; undefined with the host builder. */
  readonly builderImage?: pulumi.Output<string>;
  /** Git tree id of the checkout as built: the provenance names it when the tree was dirty. */
  readonly treeId: string;
  /** Local id of each built image, and `<repository>@sha256:…` of each pushed one. */
  readonly imageIds: pulumi.Output<Record<string, string>>;
  readonly imageRefs: pulumi.Output<Record<string, string>>;
  /** Steps to wait for (the pushes: bundles are attached to what they pushed). */
  readonly after: pulumi.Resource[];
  readonly secrets: StackSecrets;
}

/**
 * SBOMs (the deb, each image), the build's SLSA provenance, Sigstore bundles (the provenance's, and
 * each image's, attached in the registry), SHA256SUMS over all of it and its GPG signature: what
 * `npm run verify` checks. Runs again only when the deb or an image changes.
 */
export class Attestations extends pulumi.ComponentResource {
  /** `build/<debianVersion>/`, where every file is. */
  readonly artifactDir: pulumi.Output<string>;
  /** What the step did: files, how it signed, the bundles it attached. */
  readonly result: pulumi.Output<AttestResult>;

  constructor(name: string, args: AttestationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:supply:Attestations", name, {}, opts);
    const { settings, checkout } = args;
    const request = pulumi
      .all([args.debPath, args.verifiedDebSha256, args.builderImage, args.imageIds, args.imageRefs])
      .apply(([debPath, , builderImage, imageIds, imageRefs]): AttestRequest => ({
        artifactDir: dirname(debPath),
        debPath,
        distro: settings.distribution.distro,
        images: Object.entries(imageIds).map(([image, localId]) => ({
          name: image as ImageName,
          repository: imageRepository(settings.images.registry, settings.images.namespace, image as ImageName),
          localId,
          pushedRef: imageRefs[image],
          venvs: IMAGE_VENVS[image as ImageName],
        })),
        provenance: {
          ralph: {
            repository: `https://github.com/${settings.github.repository}`,
            commit: checkout.commit,
            version: checkout.version,
            ref: ralphRef(checkout),
            dirtyTree: checkout.dirtyFiles.length > 0 ? args.treeId : undefined,
          },
          builderImage,
          config: provenanceSettings(settings),
          stack: pulumi.getStack(),
        },
        baseImages: [
          { role: "baseImage", reference: settings.deb.baseImage },
          ...(settings.images.build ? [{ role: "nginxImage", reference: settings.images.nginxImage }] : []),
        ],
        projectDir: args.roots.project,
        gpgKey: settings.aptly.gpgKey,
        sigstore: settings.sigstore,
        registryUsername: settings.images.username,
        release: settings.mode === "release",
        signing: settings.signing,
      }));
    const step = new PipelineStep(
      `${name}-attest`,
      {
        kind: STEP_KINDS.attest,
        request,
        roots: args.roots,
        runtimeEnvironment: {
          RALPH_SIGNING_KEY: args.secrets.signingKey ?? "",
          RALPH_GPG_SIGNING_KEY: args.secrets.gpgSigningKey ?? "",
          RALPH_REGISTRY_PASSWORD: args.secrets.registryPassword ?? "",
        },
        triggers: {
          debSha256: args.verifiedDebSha256,
          imageIds: args.imageIds.apply(JSON.stringify),
          imageRefs: args.imageRefs.apply(JSON.stringify),
        },
      },
      { parent: this, dependsOn: args.after },
    );
    this.result = step.result<AttestResult>();
    this.artifactDir = this.result.artifactDir;
    this.registerOutputs({ artifactDir: this.artifactDir, result: this.result });
  }
}
