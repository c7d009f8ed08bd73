import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../lib/config";
import { IMAGE_NAMES, type ImageName, imageRepository, imageTags } from "../lib/images";
import type { CheckoutVersion, Mode } from "../lib/version";
import { DebPackage } from "./DebPackage";
import { RalphImages } from "./RalphImages";
import type { StackSecrets } from "./stackInputs";

export interface RalphReleaseArgs {
  /** Validated stack settings (lib/config.ts). */
  readonly settings: Settings;
  /** The Ralph checkout's version; for a release stack already checked against the release rule. */
  readonly checkout: CheckoutVersion;
  /** Credentials, as Pulumi secrets; only the steps that publish receive them. */
  readonly secrets: StackSecrets;
  /** This project's directory (recipes, CLI). */
  readonly projectDir: string;
}

/**
 * One Ralph release (or snapshot) of one checkout. Reads top to bottom like GoReleaser's pipeline;
 * the Pulumi graph runs independent steps in parallel.
 */
export class RalphRelease extends pulumi.ComponentResource {
  /** Ralph's version string: the release tag, or `<next>-<branch>-SNAPSHOT`. */
  readonly version: pulumi.Output<string>;
  readonly mode: pulumi.Output<Mode>;
  /** The .deb version (dpkg-sortable form of `version`). */
  readonly debianVersion: pulumi.Output<string>;
  /** Full id of the commit being released. */
  readonly commit: pulumi.Output<string>;
  /** Tags every image gets: the version, and `latest` for releases only. */
  readonly imageTags: pulumi.Output<string[]>;
  /** Repository of each image in the configured registry and namespace. */
  readonly imageRepositories: pulumi.Output<Record<ImageName, string>>;
  /** The ralph-core .deb, built and verified. */
  readonly deb: DebPackage;
  /** ralph, ralph-static-nginx, inkpy: built, smoke-tested, pushed when publishing. */
  readonly images: RalphImages;

  constructor(name: string, args: RalphReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:release:RalphRelease", name, {}, opts);
    const { settings, checkout } = args;

    // version: worked out from git before anything is declared (stackInputs).
    this.version = pulumi.output(checkout.version);
    // The stack's mode, not the checkout's: a snapshot stack may build a tagged commit, and must
    // still leave `latest` alone.
    this.mode = pulumi.output(settings.mode);
    this.debianVersion = pulumi.output(checkout.debianVersion);
    this.commit = pulumi.output(checkout.commit);
    // changelog + deb + verify + checksums: debian/changelog from git, the build in its builder, the
    // verification gate, SHA256SUMS beside the artifact.
    this.deb = new DebPackage(
      "ralph-core",
      {
        source: settings.source,
        checkout,
        distribution: settings.distribution.name,
        deb: settings.deb,
        projectDir: args.projectDir,
        outDir: `${args.projectDir}/build`,
        mode: settings.mode,
      },
      { parent: this },
    );
    // images + smoke: ralph from the verified deb, static from that exact ralph build, inkpy beside
    // them; each smoke-tested, then (publishImages) pushed with its tags.
    this.images = new RalphImages(
      "images",
      {
        settings,
        checkout,
        debPath: this.deb.path,
        verifiedDebSha256: this.deb.verifiedSha256,
        projectDir: args.projectDir,
        outDir: `${args.projectDir}/build`,
        registryPassword: args.secrets.registryPassword,
      },
      { parent: this },
    );
    // publish (packagecloud), index wait, release: added by the components that declare them.
    this.imageTags = pulumi.output(imageTags(settings.mode, checkout.version));
    this.imageRepositories = pulumi.output(
      Object.fromEntries(
        IMAGE_NAMES.map((image) => [
          image,
          imageRepository(settings.images.registry, settings.images.namespace, image),
        ]),
      ) as Record<ImageName, string>,
    );

    this.registerOutputs({
      version: this.version,
      mode: this.mode,
      debianVersion: this.debianVersion,
      commit: this.commit,
      imageTags: this.imageTags,
      imageRepositories: this.imageRepositories,
      debPath: this.deb.path,
      debSha256: this.deb.verifiedSha256,
      imageIds: this.images.localIds,
      imageRefs: this.images.pushedRefs,
    });
  }
}
