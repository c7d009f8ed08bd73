/** Where the deb is published (packagecloud, aptly) and how long a release waits for its index. */
import type { DebTarget } from "../keys";
import type { ConfigReader } from "../reader";
import type { Settings } from "../settings";

export function readPublish(
  r: ConfigReader,
): Pick<Settings, "aptly" | "packagecloud" | "indexWaitSeconds"> & { debTargets: DebTarget[] } {
  const targets = r.text("debTargets");
  const debTargets = targets === "none" ? [] : (targets.split(",").map((t) => t.trim()) as DebTarget[]);
  const aptly = {
    root: r.absolute(r.text("aptlyRoot")),
    url: r.optional("aptlyUrl"),
    gpgKey: r.optional("aptlyGpgKey"),
  };
  if (debTargets.includes("packagecloud") && r.optional("packagecloudToken") === undefined) {
    r.problem(
      "packagecloudToken",
      "is needed to push the deb (debTargets has packagecloud)",
      `${r.setCommand("packagecloudToken")}, or take packagecloud out of debTargets.`,
    );
  }
  if (r.mode === "release") checkReleaseTargets(r, debTargets, aptly);
  return {
    debTargets,
    aptly,
    packagecloud: { repository: r.text("packagecloudRepository"), url: r.text("packagecloudUrl") },
    indexWaitSeconds: Number(r.text("indexWaitSeconds")),
  };
}

/** A release image installs ralph-core from the first target: it must be a served, signed repository. */
function checkReleaseTargets(r: ConfigReader, debTargets: readonly DebTarget[], aptly: Settings["aptly"]): void {
  if (debTargets.length === 0) {
    r.problem(
      "debTargets",
      "is none, but the release ralph image installs ralph-core from a published apt repository",
      `pulumi config set --stack ${r.stack} debTargets packagecloud (or aptly).`,
    );
  } else if (debTargets[0] === "aptly" && aptly.url === undefined) {
    r.problem(
      "aptlyUrl",
      "is needed: the release ralph image installs ralph-core from the aptly repository, served at this URL",
      `serve ${aptly.root}/public over HTTP, then ${r.setCommand("aptlyUrl")}.`,
    );
  }
  if (debTargets.includes("aptly") && aptly.gpgKey === undefined) {
    r.problem(
      "aptlyGpgKey",
      "is needed: a release is published to a signed apt repository only",
      `${r.setCommand("aptlyGpgKey")} (a key id from \`gpg --list-secret-keys\`).`,
    );
  }
}
