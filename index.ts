import * as pulumi from "./components/sdk";
import { RalphRelease } from "./components/RalphRelease";
import { readStackInputs } from "./components/stackInputs";
import { describeTarget } from "./lib/config";
import { expandPaths } from "./lib/steps/machineRoots";

// Config and the checkout's version are read and checked once, before any resource is declared:
// a bad key or an unreleasable commit stops here with one clear error.
const { settings, secrets, checkout, notices: stackNotices, recorded } = readStackInputs();

const release = new RalphRelease("ralph", { settings, secrets, checkout, recorded, projectDir: __dirname });

export const version = release.version;
export const mode = release.mode;
export const debianVersion = release.debianVersion;
export const commit = release.commit;
export const imageTags = release.imageTags;
export const imageRepositories = release.imageRepositories;
// Paths as they are on the machine of this run (the steps store them from their roots).
const onThisMachine = <T>(value: pulumi.Output<T>) => value.apply((v) => expandPaths(v, release.roots));
export const debPath = onThisMachine(release.deb.path);
export const debSha256 = release.deb.verifiedSha256;
export const debChecksums = onThisMachine(release.deb.checksumsPath);
export const imageIds = release.imageIds;
export const imageRefs = release.imageRefs;
export const debLocations = pulumi.output(release.debLocations);
/** The build's target, each part with where it came from (the checkout, the config, the defaults). */
export const target = pulumi.output(describeTarget(settings.target));
/** What this stack leaves out and why (e.g. inkpy without its checkout, `latest` behind a newer release). */
export const notices = pulumi.output(stackNotices);
/** The GitHub release's page; null on a stack without one. */
export const githubReleaseUrl = release.githubRelease?.url ?? pulumi.output(null);
/** The supply chain beside the deb: where, the files, what signed them, the bundles attached to images. */
export const attestations = onThisMachine(release.attestations.result);
