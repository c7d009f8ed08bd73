import * as pulumi from "@pulumi/pulumi";
import { RalphRelease } from "./components/RalphRelease";
import { readStackInputs } from "./components/stackInputs";

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
export const debPath = release.deb.path;
export const debSha256 = release.deb.verifiedSha256;
export const debChecksums = release.deb.checksumsPath;
export const imageIds = release.imageIds;
export const imageRefs = release.imageRefs;
export const debLocations = pulumi.output(release.debLocations);
/** What this stack leaves out and why (e.g. inkpy without its checkout, `latest` behind a newer release). */
export const notices = pulumi.output(stackNotices);
export const githubReleaseUrl = release.githubRelease?.url ?? pulumi.output(undefined);
/** The supply chain beside the deb: where, the files, what signed them, the bundles attached to images. */
export const attestations = release.attestations.result;
