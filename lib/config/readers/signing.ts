/** Who signs a build's supply chain; a release is never signed by a throw-away key. */
import type { ConfigReader } from "../reader";
import type { Settings } from "../settings";

export function readSigning(r: ConfigReader, ciIdentity: boolean, previewOnly: boolean): Settings["signing"] {
  const signing: Settings["signing"] = {
    checksums: r.optional("gpgSigningKey") ? "key" : r.optional("aptlyGpgKey") ? "keyring" : "throw-away",
    bundles: ciIdentity ? "keyless" : r.optional("signingKey") ? "key" : "throw-away",
  };
  if (r.mode !== "release") return signing;
  if (signing.checksums === "throw-away")
    r.problem(
      "gpgSigningKey",
      "is needed: a release's SHA256SUMS is signed with the release's own key, which users check it against (npm run verify --gpg-key), never a throw-away one",
      `gpg --armor --export-secret-keys <key id> | pulumi config set --stack ${r.stack} --secret gpgSigningKey (on standard input, never on a command line), or set aptlyGpgKey to a key in this machine's keyring.`,
    );
  // The Sigstore signer is the run's (the workflow's identity): a preview signs nothing and needs none.
  if (signing.bundles === "throw-away" && !previewOnly)
    r.problem(
      "signingKey",
      "is needed outside the publish workflow: a release's Sigstore bundles are signed keyless with the workflow's identity (id-token: write) or with a configured key, never a throw-away one",
      `run the release from publish.yml (keyless), or pulumi config set --stack ${r.stack} --secret signingKey < cosign.key (a PEM EC P-256 private key, on standard input).`,
    );
  return signing;
}
