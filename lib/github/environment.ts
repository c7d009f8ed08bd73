/**
 * The GitHub environment the publish workflow runs in, and the settings CI hands the release stack.
 * Pure; components/ReleaseEnvironment.ts declares it.
 */
import { isSecretKey, type SecretValues, type Settings } from "../config";

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
  { env: "RELEASE_GPG_SIGNING_KEY", key: "gpgSigningKey", stored: true },
  { env: "PACKAGECLOUD_GPG_KEY", key: "packagecloudGpgKey", stored: true },
] as const;

export type CiVariable = (typeof CI_VARIABLES)[number];

/** Pulumi's own variables, read by the Pulumi CLI in the workflow rather than by the program. */
export const PULUMI_VARIABLES = {
  backendUrl: "PULUMI_BACKEND_URL",
  passphrase: "PULUMI_CONFIG_PASSPHRASE",
  accessToken: "PULUMI_ACCESS_TOKEN",
} as const;

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
  if (settings.packagecloud.gpgKey) variables.PACKAGECLOUD_GPG_KEY = settings.packagecloud.gpgKey;
  const secrets: Record<string, keyof SecretValues> = {
    [PULUMI_VARIABLES.passphrase]: "ciPulumiPassphrase",
    [PULUMI_VARIABLES.accessToken]: "ciPulumiAccessToken",
  };
  for (const variable of CI_VARIABLES) {
    if (variable.stored && isSecretKey(variable.key)) secrets[variable.env] = variable.key as keyof SecretValues;
  }
  return { variables, secrets };
}
