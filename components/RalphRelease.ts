import * as pulumi from "./sdk";
import { changesSince } from "../lib/version/changelog";
import type { Settings } from "../lib/config";
import { wholeFingerprint } from "../lib/config/checks";
import { publishWorkflowEnvironment } from "../lib/github/environment";
import { renderReleaseNotes, splitRepository } from "../lib/github/release";
import {
  debLocations,
  builtImages,
  type ImageName,
  imageRepository,
  imageTags,
  releaseAptSource,
} from "../lib/images/names";
import type { CheckoutVersion, Mode } from "../lib/version/version";
import { aptlyPublicationFor } from "../lib/publish/aptly";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { outDirFor } from "../lib/deb/build";
import { SUMS, SUMS_KEY, SUMS_SIGNATURE } from "../lib/supply/checksums";
import { AptIndexWait } from "./AptIndexWait";
import { AptlyRepository } from "./AptlyRepository";
import { Attestations } from "./Attestations";
import { DebPackage } from "./DebPackage";
import { GithubRelease } from "./GithubRelease";
import { PackagecloudPackage } from "./PackagecloudPackage";
import { PublishedCheck } from "./PublishedCheck";
import { RalphImages } from "./RalphImages";
import { loadGithub, ReleaseEnvironment } from "./ReleaseEnvironment";
import type { StackRecord } from "../lib/steps/stateRecord";
import type { StackSecrets } from "./stackInputs";

/** SHA256SUMS, its signature and the signing key's public half: assets beside what SHA256SUMS lists. */
const SIGNED_SUMS = [SUMS, SUMS_SIGNATURE, SUMS_KEY];

export interface RalphReleaseArgs {
  /** Validated stack settings (lib/config). */
  readonly settings: Settings;
  /** The Ralph checkout's version; for a release stack already checked against the release rule. */
  readonly checkout: CheckoutVersion;
  /** Credentials, as Pulumi secrets; only the steps that publish receive them. */
  readonly secrets: StackSecrets;
  /** This project's directory (recipes, CLI). */
  readonly projectDir: string;
  /** A release's record of what this stack published, from its resources' state. */
  readonly recorded: StackRecord;
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
  /** Release: the check of every target and the registry that every build waits for. */
  readonly publishedCheck?: PublishedCheck;
  /** The ralph-core .deb, built and verified. */
  readonly deb: DebPackage;
  /** ralph, ralph-static-nginx, inkpy: built, smoke-tested, pushed when publishing; absent on a deb-only stack. */
  readonly images?: RalphImages;
  /** Local image id of each built image (none on a deb-only stack). */
  readonly imageIds: pulumi.Output<Record<string, string>>;
  /** `<repository>@sha256:…` of each pushed image; empty when nothing is pushed. */
  readonly imageRefs: pulumi.Output<Record<string, string>>;
  /** The deb on packagecloud, when that is a target. */
  readonly packagecloud?: PackagecloudPackage;
  /** The deb in the self-hosted aptly repository, when that is a target. */
  readonly aptly?: AptlyRepository;
  /** Where the deb is published (repository URLs or aptly's public directory), in target order. */
  readonly debLocations: string[];
  /** SBOMs, provenance, signatures: beside the deb, attached to the pushed images. */
  readonly attestations: Attestations;
  /** The GitHub release of the tag, when `githubRelease` is on. */
  readonly githubRelease?: GithubRelease;
  /** The publish workflow's GitHub environment, when `githubEnvironment` names one. */
  readonly releaseEnvironment?: ReleaseEnvironment;
  /** Where this run's project and checkouts are: steps name paths from them (`{project}/build/…`). */
  readonly roots: MachineRoots;

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
    const release = settings.mode === "release";
    const outDir = outDirFor(args.projectDir, settings.mode);
    // Where this run's project and checkouts are: steps store their paths from these roots.
    const roots: MachineRoots = (this.roots = {
      project: args.projectDir,
      checkout: settings.source,
      ...(settings.images.inkpy ? { inkpy: settings.images.inkpy.context } : {}),
    });
    // Children are named from this component's name; `was` keeps the URN of a stack written before.
    const child = (suffix: string, was: string): { name: string; aliases: pulumi.Alias[] } => {
      const childName = `${name}-${suffix}`;
      return { name: childName, aliases: childName === was ? [] : [{ name: was }] };
    };
    const names = {
      published: child("published", "published"),
      core: child("core", "ralph-core"),
      packagecloud: child("core-packagecloud", "ralph-core-packagecloud"),
      aptly: child("core-aptly", "ralph-core-aptly"),
      index: child("core-index", "ralph-core-index"),
      images: child("images", "images"),
      supplyChain: child("supply-chain", "supply-chain"),
      github: child("github", "github"),
      githubRelease: child("github-release", "github-release"),
      githubEnvironment: child("github-environment", "github-environment"),
    };
    // published check: a release's version is unpublished or this stack's own on every target and in
    // the registry, or nothing is built at all.
    this.publishedCheck = release
      ? new PublishedCheck(
          names.published.name,
          { settings, checkout, roots, outDir, secrets: args.secrets, recorded: args.recorded },
          { parent: this, aliases: names.published.aliases },
        )
      : undefined;
    const checked = this.publishedCheck?.steps ?? [];
    // changelog + deb + verify + checksums: debian/changelog from git, the build in its builder, the
    // verification gate, SHA256SUMS beside the artifact.
    this.deb = new DebPackage(
      names.core.name,
      {
        source: settings.source,
        checkout,
        distribution: settings.distribution.name,
        deb: settings.deb,
        roots,
        outDir,
        mode: settings.mode,
        after: checked,
      },
      { parent: this, aliases: names.core.aliases },
    );
    // publish: the verified deb to each target; a release's packages survive `pulumi destroy`.
    this.debLocations = debLocations(settings);
    const { distro, release: distroRelease } = settings.distribution;
    const artifact = this.deb.artifact;
    if (settings.publish.debTargets.includes("packagecloud")) {
      this.packagecloud = new PackagecloudPackage(
        names.packagecloud.name,
        {
          url: settings.packagecloud.url,
          repository: settings.packagecloud.repository,
          distro,
          release: distroRelease,
          packageName: artifact.packageName,
          version: artifact.version,
          architecture: artifact.architecture,
          debPath: this.deb.path,
          projectDir: args.projectDir,
          sha256: this.deb.verifiedSha256,
          token: args.secrets.packagecloudToken ?? pulumi.secret(""),
          yankOnDelete: !release,
        },
        {
          parent: this,
          aliases: names.packagecloud.aliases,
          retainOnDelete: release,
        },
      );
    }
    if (settings.publish.debTargets.includes("aptly")) {
      this.aptly = new AptlyRepository(
        names.aptly.name,
        {
          rootDir: settings.aptly.root,
          ...aptlyPublicationFor(settings.mode, distro, distroRelease),
          distro,
          release: distroRelease,
          debPath: this.deb.path,
          sha256: this.deb.verifiedSha256,
          gpgKey: settings.aptly.gpgKey,
          roots,
        },
        { parent: this, aliases: names.aptly.aliases, retainOnDelete: release },
      );
    }
    // index wait: the release ralph image installs ralph-core from its repository, once installable
    // (a deb-only stack has no image to wait for).
    const aptSource = release && settings.images.build ? releaseAptSource(settings) : undefined;
    const published = [this.packagecloud, this.aptly].filter((r): r is NonNullable<typeof r> => r !== undefined);
    const indexWait =
      aptSource &&
      new AptIndexWait(
        names.index.name,
        {
          baseUrl: aptSource.baseUrl,
          release: distroRelease,
          packageName: "ralph-core",
          version: checkout.debianVersion,
          deadlineSeconds: settings.indexWaitSeconds,
          after: published,
          trigger: this.deb.verifiedSha256,
          roots,
        },
        { parent: this, aliases: names.index.aliases },
      );
    // images + smoke: ralph from the verified deb (snapshot) or its repository (release), static from
    // that exact ralph build, inkpy beside them; each smoke-tested, then (publishImages) pushed.
    // A deb-only stack (`images: false`) stops before this step.
    this.images = settings.images.build
      ? new RalphImages(
          names.images.name,
          {
            settings,
            checkout,
            debPath: this.deb.path,
            verifiedDebSha256: this.deb.verifiedSha256,
            aptSource,
            // The key the image may trust: the one aptly signed with, or packagecloud's pinned one.
            aptKeyFingerprint:
              settings.publish.debTargets[0] === "aptly"
                ? // A publication recorded before the pin: the key named by its fingerprint pins itself.
                  this.aptly?.publication.apply(
                    (p) => p.keyFingerprint ?? wholeFingerprint(settings.aptly.gpgKey) ?? "",
                  )
                : settings.packagecloud.gpgKey,
            installableAfter: indexWait ? [indexWait.ready] : [],
            roots,
            outDir,
            registryPassword: args.secrets.registryPassword,
            recorded: args.recorded,
            after: checked,
          },
          { parent: this, aliases: names.images.aliases },
        )
      : undefined;
    this.imageIds = this.images?.localIds ?? pulumi.output<Record<string, string>>({});
    this.imageRefs = this.images?.pushedRefs ?? pulumi.output<Record<string, string>>({});
    // attest: SBOMs, SLSA provenance and Sigstore bundles (attached to the pushed images), SHA256SUMS
    // over all of it, GPG-signed: what `npm run verify` checks.
    this.attestations = new Attestations(
      names.supplyChain.name,
      {
        settings,
        checkout,
        roots,
        debPath: this.deb.path,
        verifiedDebSha256: this.deb.verifiedSha256,
        builderImage: this.deb.builderImage,
        treeId: this.deb.treeId,
        imageIds: this.imageIds,
        imageRefs: this.imageRefs,
        after: this.images ? [this.images] : [],
        secrets: args.secrets,
      },
      { parent: this, aliases: names.supplyChain.aliases },
    );
    // release: the GitHub release, last: drafted or adopted, every artifact and attestation uploaded
    // once, published when all are there.
    const { github: gh } = settings;
    if (settings.publish.githubRelease) {
      const changes = changesSince(settings.source, checkout.commit);
      const tags = imageTags(settings.mode, checkout.version, checkout.newestOnMain);
      const attested = this.attestations.result;
      this.githubRelease = new GithubRelease(
        names.githubRelease.name,
        {
          apiUrl: gh.apiUrl,
          repository: gh.repository,
          tag: checkout.version,
          commit: checkout.commit,
          notes: pulumi
            .all([artifact, this.deb.verifiedSha256, this.imageRefs, attested])
            .apply(([deb, sha256, imageRefs, result]) =>
              renderReleaseNotes({
                version: checkout.version,
                changes,
                distribution: settings.distribution.name,
                debFileName: deb.fileName,
                debSha256: sha256,
                debLocations: this.debLocations,
                imageRefs,
                imageTags: tags,
                supplyChainFiles: [...result.files.filter((file) => file !== deb.fileName), ...SIGNED_SUMS],
                signing: result,
                repository: gh.repository,
              }),
            ),
          artifactDir: attested.artifactDir,
          assets: attested.files.apply((files) => [...files, ...SIGNED_SUMS]),
          debFile: artifact.fileName,
          releaseId: gh.releaseId,
          token: args.secrets.githubToken ?? pulumi.secret(""),
          after: [...published, ...(this.images ? [this.images] : []), this.attestations],
          roots,
        },
        { parent: this, aliases: names.githubRelease.aliases },
      );
    }
    const githubProvider =
      gh.environment !== undefined &&
      new (loadGithub().Provider)(
        names.github.name,
        { owner: splitRepository(gh.repository).owner, token: args.secrets.githubToken },
        { parent: this, aliases: names.github.aliases },
      );
    // The publish workflow's environment: what `up` of this stack needs, for release tags only.
    if (githubProvider && gh.environment !== undefined) {
      const stored = publishWorkflowEnvironment(settings);
      const secrets = Object.entries(stored.secrets).flatMap(([name, key]) => {
        const value = args.secrets[key];
        return value ? [[name, value] as const] : [];
      });
      this.releaseEnvironment = new ReleaseEnvironment(
        names.githubEnvironment.name,
        {
          repository: gh.repository,
          environment: gh.environment,
          variables: stored.variables,
          secrets: Object.fromEntries(secrets),
          provider: githubProvider,
        },
        { parent: this, aliases: names.githubEnvironment.aliases },
      );
    }
    this.imageTags = pulumi.output(imageTags(settings.mode, checkout.version, checkout.newestOnMain));
    this.imageRepositories = pulumi.output(
      Object.fromEntries(
        builtImages(settings).map((image) => [
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
      imageIds: this.imageIds,
      imageRefs: this.imageRefs,
      packagecloudUrl: this.packagecloud?.packageUrl,
      aptlyPublication: this.aptly?.publication,
      debLocations: this.debLocations,
      attestations: this.attestations.result,
      githubReleaseUrl: this.githubRelease?.url,
      githubEnvironment: this.releaseEnvironment?.name,
    });
  }
}
