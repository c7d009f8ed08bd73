/**
 * What the release stack puts on GitHub, as plain data: the release's text, and the environment the
 * publish workflow runs in. Pure; components/GithubRelease.ts and ReleaseEnvironment.ts declare it.
 */
import type { Changes } from "./changelog";
import { isSecretKey, type SecretValues, type Settings } from "./config";

/** The text of a GitHub release: the changelog entry, then every artifact by checksum or digest. */
export interface ReleaseNotesRequest {
  readonly version: string;
  readonly changes: Changes;
  /** `<distro>/<release>` the deb was built for. */
  readonly distribution: string;
  readonly debFileName: string;
  readonly debSha256: string;
  /** Where the deb was published (packagecloud URL, aptly publication), in order. */
  readonly debLocations: readonly string[];
  /** `<repository>@sha256:…` of each pushed image. */
  readonly imageRefs: Readonly<Record<string, string>>;
  /** Tags each image got. */
  readonly imageTags: readonly string[];
}

export function renderReleaseNotes(request: ReleaseNotesRequest): string {
  const { changes } = request;
  const since = changes.previous ? `Changes since ${changes.previous}:` : "Changes:";
  const items = changes.subjects.length > 0 ? changes.subjects : ["Rebuild; no commits since the previous release."];
  const images = Object.entries(request.imageRefs).map(([image, ref]) => {
    const repository = ref.split("@")[0];
    const tags = request.imageTags.map((tag) => `\`${repository}:${tag}\``).join(", ");
    return `- ${image}: ${tags} — \`${ref}\``;
  });
  const debWhere = request.debLocations.length > 0 ? ` (${request.debLocations.join(", ")})` : "";
  return [
    `Ralph ${request.version}`,
    "",
    since,
    ...items.map((subject) => `- ${subject}`),
    "",
    "Artifacts:",
    `- \`${request.debFileName}\` for ${request.distribution}${debWhere}, sha256 \`${request.debSha256}\``,
    ...images,
    "",
  ].join("\n");
}

/**
 * Settings CI hands the release stack as environment variables: the release CLI turns each into its
 * config key (a secret when the key is one), and the release environment on GitHub holds them for
 * the publish workflow. One list, so the two cannot disagree on a name.
 */
export const CI_VARIABLES = [
  { env: "RALPH_SOURCE", key: "source", stored: false },
  { env: "RALPH_GITHUB_RELEASE_ID", key: "githubReleaseId", stored: false },
  { env: "REGISTRY_USERNAME", key: "registryUsername", stored: true },
  { env: "REGISTRY_PASSWORD", key: "registryPassword", stored: true },
  { env: "PACKAGECLOUD_TOKEN", key: "packagecloudToken", stored: true },
  { env: "RALPH_RELEASE_GITHUB_TOKEN", key: "githubToken", stored: true },
] as const;

export type CiVariable = (typeof CI_VARIABLES)[number];

/** Pulumi's own variables, read by the Pulumi CLI in the workflow rather than by the program. */
export const PULUMI_VARIABLES = {
  backendUrl: "PULUMI_BACKEND_URL",
  passphrase: "PULUMI_CONFIG_PASSPHRASE",
  accessToken: "PULUMI_ACCESS_TOKEN",
} as const;

/** `owner/repo` → its parts; the config check has already made sure there is exactly one slash. */
export function splitRepository(repository: string): { owner: string; name: string } {
  const [owner, name] = repository.split("/");
  return { owner, name };
}

/** Pulumi import id of an existing GitHub release: `<repo name>:<release id>` (pulumi-github docs). */
export function releaseImportId(repository: string, releaseId: string): string {
  return `${splitRepository(repository).name}:${releaseId}`;
}

/** Tags a release environment accepts deployments from: Ralph's release tags only (GitHub fnmatch). */
export const RELEASE_TAG_PATTERN = "[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].*";

/** What the publish workflow's environment holds: variables by value, secrets by the config key they come from. */
export function publishWorkflowEnvironment(settings: Settings): {
  variables: Record<string, string>;
  secrets: Record<string, keyof SecretValues>;
} {
  const variables: Record<string, string> = {};
  if (settings.github.ciBackendUrl) variables[PULUMI_VARIABLES.backendUrl] = settings.github.ciBackendUrl;
  if (settings.images.username) variables.REGISTRY_USERNAME = settings.images.username;
  const secrets: Record<string, keyof SecretValues> = {
    [PULUMI_VARIABLES.passphrase]: "ciPulumiPassphrase",
    [PULUMI_VARIABLES.accessToken]: "ciPulumiAccessToken",
  };
  for (const variable of CI_VARIABLES) {
    if (variable.stored && isSecretKey(variable.key)) secrets[variable.env] = variable.key as keyof SecretValues;
  }
  return { variables, secrets };
}
