/**
 * The GitHub release's text: the changelog entry, every artifact by checksum or digest, who signed
 * the supply chain and the check to run. Pure; lib/github/releaseClient.ts publishes it.
 */
import type { Changes } from "../version/changelog";

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
  /** The supply-chain files beside the deb (SBOMs, provenance, bundles, SHA256SUMS); none when not made. */
  readonly supplyChainFiles?: readonly string[];
  /** Who signed them (the attest step's result), for the check users run. */
  readonly signing?: {
    readonly checksumsFingerprint: string;
    readonly sigstoreSigning: string;
    readonly sigstoreSigner: string;
  };
  /** `owner/repo` of the release: `npm run verify -- <version> --github <repository>`. */
  readonly repository?: string;
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
    ...supplyChain(request),
    "",
  ].join("\n");
}

function supplyChain(request: ReleaseNotesRequest): string[] {
  const files = request.supplyChainFiles ?? [];
  if (files.length === 0) return [];
  const named = (suffix: string) => files.filter((file) => file.endsWith(suffix)).map((file) => `\`${file}\``);
  const { signing } = request;
  const keyless = signing?.sigstoreSigning === "keyless";
  const gpg = signing ? `GPG key \`${signing.checksumsFingerprint}\`` : "the release's GPG key";
  const bundleSigner = keyless
    ? `keyless, by \`${signing!.sigstoreSigner}\``
    : signing
      ? `with Sigstore ${signing.sigstoreSigner.replace(/^key /, "key hint ")}`
      : "with Sigstore";
  const anchor = keyless
    ? `--identity ${signing!.sigstoreSigner} --trusted-root trusted_root.json`
    : "--key <the release's Sigstore public key>";
  const where = request.repository ? ` --github ${request.repository}` : "";
  return [
    "",
    "Supply chain (assets of this release):",
    `- SBOMs (CycloneDX): ${named(".cdx.json").join(", ")}`,
    `- Provenance (SLSA v1, in-toto): ${named(".intoto.json").join(", ")}; Sigstore bundles: ${named(".sigstore.json").join(", ")}, signed ${bundleSigner} (each image's is attached to it in the registry)`,
    `- \`SHA256SUMS\`, signed in \`SHA256SUMS.asc\` by ${gpg}`,
    `- Check before installing, with ralph-release: \`npm run verify -- ${request.version}${where} --gpg-key <the release key, fingerprint ${signing?.checksumsFingerprint ?? "above"}> ${anchor}\``,
  ];
}

/** `owner/repo` → its parts; the config check has already made sure there is exactly one slash. */
export function splitRepository(repository: string): { owner: string; name: string } {
  const [owner, name] = repository.split("/");
  return { owner, name };
}
