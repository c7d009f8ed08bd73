/**
 * The build's provenance: an in-toto statement with a SLSA provenance v1 predicate, naming what was
 * built (the deb by sha256, each image by digest) and from what. Pure.
 */
import type { Settings } from "../config";
import { PLATFORM } from "../platform";

export const IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1";
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const SLSA_PROVENANCE = "https://slsa.dev/provenance/v1";
export const BUILD_TYPE = "https://github.com/allegro/ralph-release/build/v1";

export interface Subject {
  readonly name: string;
  readonly digest: { readonly sha256: string };
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export interface ProvenanceFacts {
  /** The deb file name and each image's repository, with their digests. */
  readonly subjects: readonly Subject[];
  readonly ralph: {
    readonly repository: string;
    readonly commit: string;
    readonly version: string;
    /** The ref the build is of (ralphRef): a release's tag, a snapshot's branch; none when detached. */
    readonly ref?: string;
    /** A dirty snapshot's working tree (git tree id): what was built, which no commit holds. */
    readonly dirtyTree?: string;
  };
  /** This project's commit (`git rev-parse HEAD`), `dirty` when its tree had changes. */
  readonly project: { readonly commit: string; readonly dirty: boolean };
  /** The deb builder image's id (`sha256:…`); undefined with the host builder. */
  readonly builderImage?: string;
  /** The base images the builder, the gate and the images start from, by digest (baseImageDependency). */
  readonly baseImages?: readonly ResolvedDependency[];
  /** What the stack's settings say of the build (provenanceSettings), never raw configuration. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly stack: string;
  readonly startedOn: string;
  readonly finishedOn: string;
}

/**
 * What the provenance records of the stack's settings: an allow-list of what shapes the build and
 * where it is published, never raw configuration (no URL that could carry a credential, no path of
 * this machine).
 */
export function provenanceSettings(settings: Settings): Record<string, unknown> {
  const { deb, images, publish } = settings;
  return {
    mode: settings.mode,
    mainBranch: settings.mainBranch,
    distribution: settings.distribution.name,
    deb: {
      builder: deb.builder,
      baseImage: deb.baseImage,
      pythonMinimum: deb.pythonMinimum,
      nodeMinimum: deb.nodeMinimum,
      ...(deb.pipVersion ? { pipVersion: deb.pipVersion } : {}),
      pipArgs: deb.pipArgs,
      extraBuildDepends: deb.extraBuildDepends,
      extraDepends: deb.extraDepends,
      frontendAssets: deb.frontendAssets !== undefined,
    },
    images: {
      build: images.build,
      registry: images.registry,
      namespace: images.namespace,
      nginxImage: images.nginxImage,
      inkpy: images.inkpy !== undefined,
    },
    publish: {
      debTargets: publish.debTargets,
      images: publish.images,
      githubRelease: publish.githubRelease,
      packagecloudRepository: publish.debTargets.includes("packagecloud")
        ? settings.packagecloud.repository
        : undefined,
      githubRepository: settings.github.repository,
    },
    signing: settings.signing,
  };
}

export interface ResolvedDependency {
  readonly uri: string;
  readonly digest?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** The ref a build of `checkout` is of: a release's tag; a snapshot's branch; none for a detached HEAD. */
export function ralphRef(checkout: { mode: string; version: string; branch?: string }): string | undefined {
  if (checkout.mode === "release") return `refs/tags/${checkout.version}`;
  return checkout.branch ? `refs/heads/${checkout.branch}` : undefined;
}

/**
 * A base image as the provenance names it: by the digest the reference pins, else by the registry
 * manifest digest the engine recorded when it pulled it, else by its local image id (built or loaded
 * here: no registry vouches for it, and the annotation says so).
 */
export function baseImageDependency(
  role: string,
  reference: string,
  onEngine?: { readonly repoDigests: readonly string[]; readonly id: string },
): ResolvedDependency {
  const uri = `docker-image://${reference}`;
  const pinned = /@sha256:([0-9a-f]{64})$/.exec(reference)?.[1];
  if (pinned) return { uri, digest: { sha256: pinned }, annotations: { role, digestFrom: "reference" } };
  if (!onEngine) return { uri, annotations: { role, digestFrom: "none: not on the engine" } };
  // Docker Hub's names as the engine writes them: `ubuntu` is docker.io/library/ubuntu.
  const repositoryOf = (name: string) => name.replace(/^((index\.)?docker\.io\/)?(library\/)?/, "");
  const repository = repositoryOf(reference.replace(/:[^/:]+$/, ""));
  // podman names images built or loaded here localhost/…, with a digest no registry has served.
  const manifest = repository.startsWith("localhost/")
    ? undefined
    : onEngine.repoDigests
        .map((entry) => entry.split("@sha256:"))
        .find(([name]) => repositoryOf(name) === repository)?.[1];
  if (manifest) return { uri, digest: { sha256: manifest }, annotations: { role, digestFrom: "registry manifest" } };
  return { uri, digest: { sha256: sha256Hex(onEngine.id) }, annotations: { role, digestFrom: "local image id" } };
}

export interface Statement {
  readonly _type: string;
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: Record<string, unknown>;
}

/** `sha256:<hex>` (or a bare hex) → the hex, as in-toto digests are written. */
export const sha256Hex = (digest: string) => digest.replace(/^sha256:/, "");

export function provenanceStatement(facts: ProvenanceFacts): Statement {
  const { ralph } = facts;
  const resolvedDependencies: ResolvedDependency[] = [
    {
      uri: `git+${ralph.repository}${ralph.ref ? `@${ralph.ref}` : ""}`,
      ...(ralph.dirtyTree
        ? { digest: { gitTree: ralph.dirtyTree }, annotations: { dirty: true, head: ralph.commit } }
        : { digest: { gitCommit: ralph.commit } }),
    },
    {
      uri: "git+https://github.com/allegro/ralph-release",
      digest: { gitCommit: facts.project.commit },
      annotations: { dirty: facts.project.dirty },
    },
    ...(facts.builderImage
      ? [{ uri: "ralph-release/deb-builder", digest: { sha256: sha256Hex(facts.builderImage) } }]
      : []),
    ...(facts.baseImages ?? []),
  ];
  return {
    _type: IN_TOTO_STATEMENT,
    subject: facts.subjects,
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        // The platform every container of the build ran as (lib/platform.ts), whatever the engine's own.
        externalParameters: {
          version: facts.ralph.version,
          stack: facts.stack,
          config: facts.config,
          platform: PLATFORM,
        },
        resolvedDependencies,
      },
      runDetails: {
        builder: { id: "https://github.com/allegro/ralph-release" },
        metadata: { startedOn: facts.startedOn, finishedOn: facts.finishedOn },
      },
    },
  };
}

/** The same statement about one subject (an image's own attestation). */
export const forSubject = (statement: Statement, subject: Subject): Statement => ({ ...statement, subject: [subject] });

/** The statement inside a DSSE payload; throws when it is not an in-toto statement. */
export function parseStatement(payload: Buffer): Statement {
  const statement = JSON.parse(payload.toString("utf8")) as Statement;
  if (statement?._type !== IN_TOTO_STATEMENT || !Array.isArray(statement.subject))
    throw new Error("the payload is not an in-toto statement");
  const wellFormed = (subject: unknown) => {
    const s = subject as Subject | null;
    return typeof s?.name === "string" && /^[0-9a-f]{64}$/.test(String(s.digest?.sha256));
  };
  if (!statement.subject.every(wellFormed))
    throw new Error("the statement names a subject without a name and a sha256 digest");
  return statement;
}
