/** The GitHub release and the environment the publish workflow runs in. */
import type { ConfigReader } from "../reader";
import type { Settings } from "../settings";

export function readGithub(r: ConfigReader): { github: Settings["github"]; release: boolean } {
  const environment = r.text("githubEnvironment");
  const github = {
    repository: r.text("githubRepository"),
    apiUrl: r.text("githubApiUrl"),
    releaseId: r.optional("githubReleaseId"),
    environment: environment === "none" ? undefined : environment,
    ciBackendUrl: r.optional("ciPulumiBackendUrl"),
  };
  const release = r.flag("githubRelease");
  checkRelease(r, release, github.releaseId);
  if (github.environment !== undefined) checkEnvironment(r, github.environment, github.ciBackendUrl, release);
  return { github, release };
}

function checkRelease(r: ConfigReader, release: boolean, releaseId: string | undefined): void {
  const token = r.optional("githubToken");
  if (release && token === undefined) {
    r.problem(
      "githubToken",
      "is needed to create the GitHub release (githubRelease is on)",
      `${r.setCommand("githubToken")}, or set githubRelease false.`,
    );
  }
  if (release && r.mode === "snapshot") {
    r.problem(
      "githubRelease",
      "is on, but a snapshot has no release tag: GitHub would make one at the snapshot's commit",
      `pulumi config set --stack ${r.stack} githubRelease false; the release stack makes GitHub releases.`,
    );
  }
  if (releaseId !== undefined && !release) {
    r.problem(
      "githubReleaseId",
      "names a release to adopt, but githubRelease is off",
      `pulumi config rm --stack ${r.stack} githubReleaseId, or set githubRelease true.`,
    );
  }
}

/** The environment is made with the token, and must hand the workflow this stack's backend and key. */
function checkEnvironment(
  r: ConfigReader,
  environment: string,
  ciBackendUrl: string | undefined,
  release: boolean,
): void {
  // With the release on, checkRelease has already asked for the token.
  if (r.optional("githubToken") === undefined && !release) {
    r.problem(
      "githubToken",
      `is needed to manage the GitHub environment '${environment}' (githubEnvironment)`,
      `${r.setCommand("githubToken")}, or pulumi config set --stack ${r.stack} githubEnvironment none.`,
    );
  }
  if (!ciBackendUrl) {
    r.problem(
      "ciPulumiBackendUrl",
      `is needed: the publish workflow in environment '${environment}' must reach this stack's state`,
      `${r.setCommand("ciPulumiBackendUrl")} (the backend of \`pulumi whoami --verbose\`).`,
    );
  }
  if (!r.optional("ciPulumiPassphrase") && !r.optional("ciPulumiAccessToken")) {
    r.problem(
      "ciPulumiPassphrase",
      `or ciPulumiAccessToken is needed: the publish workflow in environment '${environment}' must open this stack`,
      `${r.setCommand("ciPulumiPassphrase")} (self-managed backend), or ${r.setCommand("ciPulumiAccessToken")} (Pulumi Cloud).`,
    );
  }
}
