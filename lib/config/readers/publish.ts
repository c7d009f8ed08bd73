/** Where the deb is published (packagecloud, aptly) and how long a release waits for its index. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type DebTarget, KEYS, PROJECT } from "../keys";
import { isHttpsOrLoopback, wholeFingerprint } from "../checks";
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
  if (r.mode === "release") checkReleaseTargets(r, debTargets, aptly, r.flag("images"));
  const repository = r.text("packagecloudRepository");
  // Compared without case: a spelling that may name the release repository is refused too.
  const sameRepository = (other: string) => other.trim().toLowerCase() === repository.trim().toLowerCase();
  if (r.mode === "snapshot" && debTargets.includes("packagecloud") && releaseRepositories(r).some(sameRepository)) {
    r.problem(
      "packagecloudRepository",
      `is ${repository}, where releases are published: a snapshot's version sorts above every release, so apt upgrade on a production host would install it`,
      `pulumi config set --stack ${r.stack} packagecloudRepository ${KEYS.packagecloudRepository.default.snapshot} (a repository for snapshots only), or take packagecloud out of debTargets.`,
    );
  }
  return {
    debTargets,
    aptly,
    packagecloud: {
      repository,
      url: r.text("packagecloudUrl"),
      // The offline plan's stand-in stays as it is.
      gpgKey: wholeFingerprint(r.optional("packagecloudGpgKey")) ?? r.optional("packagecloudGpgKey"),
    },
    indexWaitSeconds: Number(r.text("indexWaitSeconds")),
  };
}

/** A release image installs ralph-core from the first target: it must be a served, signed repository. */
function checkReleaseTargets(
  r: ConfigReader,
  debTargets: readonly DebTarget[],
  aptly: Settings["aptly"],
  images: boolean,
): void {
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
      `serve ${aptly.root}/public over https, then ${r.setCommand("aptlyUrl")}.`,
    );
  }
  // What the release image downloads from there must come over https, and its key must be the pinned one.
  if (
    debTargets.includes("aptly") &&
    aptly.url !== undefined &&
    !(URL.canParse(aptly.url) && isHttpsOrLoopback(new URL(aptly.url)))
  ) {
    r.problem(
      "aptlyUrl",
      `is plain http (${aptly.url}): the release ralph image downloads the repository's key and ralph-core from it, and anyone on the way could hand it both`,
      `serve ${aptly.root}/public over https, then ${r.setCommand("aptlyUrl")}.`,
    );
  }
  if (images && debTargets[0] === "packagecloud" && r.optional("packagecloudGpgKey") === undefined) {
    r.problem(
      "packagecloudGpgKey",
      "is needed: the release ralph image installs ralph-core from packagecloud and trusts the repository's key only by its fingerprint",
      `curl -fsSL ${r.text("packagecloudUrl")}/${r.text("packagecloudRepository")}/gpgkey | gpg --show-keys (compare with the key packagecloud's site shows), then ${r.setCommand("packagecloudGpgKey")}.`,
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

/** The packagecloud repositories releases go to: the release default, and what Pulumi.release.yaml sets. */
function releaseRepositories(r: ConfigReader): string[] {
  const repositories = [KEYS.packagecloudRepository.default.release];
  const file = join(r.absolute("."), "Pulumi.release.yaml");
  if (existsSync(file)) {
    // Loaded here: the YAML parser is a fifth of the program's module load, for this one file.
    const { parse } = require("yaml") as typeof import("yaml");
    const configured = (parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)?.config?.[
      `${PROJECT}:packagecloudRepository`
    ];
    if (typeof configured === "string") repositories.push(configured);
  }
  return repositories;
}
