/**
 * The supply-chain step: SBOMs of the deb and each image, the build's provenance, Sigstore bundles
 * (the provenance's, and one per image attached to it in the registry), SHA256SUMS over all of it
 * and its GPG signature. Written beside the deb, in `build/<debianVersion>/`. No Pulumi.
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Settings } from "../config";
import { digestOfRef } from "../images/immutable";
import type { ImageName } from "../images/names";
import { FILES, LOCAL_ONLY } from "./files";
import { sha256File } from "../deb/build";
import { fingerprintOf, importedGpgKey, signChecksums, throwAwayGpgKey, writeChecksums } from "./checksums";
import { UserError } from "../errors";
import { readDebContents } from "./debContents";
import { readImageContents } from "./imageContents";
import {
  baseImageDependency,
  type ProvenanceFacts,
  forSubject,
  provenanceStatement,
  sha256Hex,
  type Subject,
} from "./provenance";
import { dockerConfigLogin } from "../images/registry";
import { OciRepository } from "./referrers";
import { debSbomContents, renderSbom } from "./sbom";
import {
  BUNDLE_MEDIA_TYPE,
  certificateSubjectOf,
  hasCiIdentity,
  publicKeyPemOf,
  type SigningMethod,
  signStatement,
  throwAwayKey,
} from "./sigstore";

export interface AttestedImage {
  readonly name: ImageName;
  readonly repository: string;
  /** The local image id (`sha256:…`). */
  readonly localId: string;
  /** `<repository>@sha256:…` when pushed: the bundle is attached there. */
  readonly pushedRef?: string;
  /** Directories inside the image whose Python distributions the SBOM lists (ralph's venv). */
  readonly venvs: readonly string[];
}

export interface AttestRequest {
  /** `build/<debianVersion>/`, holding the deb. */
  readonly artifactDir: string;
  readonly debPath: string;
  readonly distro: string;
  readonly images: readonly AttestedImage[];
  /** What the provenance records that the pipeline knows; the step adds the rest when it runs. */
  readonly provenance: Omit<ProvenanceFacts, "subjects" | "project" | "startedOn" | "finishedOn" | "baseImages">;
  /** The images the build started from, as configured: the provenance records each by digest. */
  readonly baseImages?: readonly { readonly role: string; readonly reference: string }[];
  /** This project's checkout: its commit goes into the provenance. */
  readonly projectDir: string;
  /** GPG key id for SHA256SUMS.asc (aptlyGpgKey); undefined: a throw-away key. */
  readonly gpgKey?: string;
  readonly sigstore: { readonly fulcioUrl: string; readonly rekorUrl: string };
  readonly registryUsername?: string;
  /** A release: signing with a throw-away key is refused, whatever the plan expected. */
  readonly release?: boolean;
  /** Who the configuration says signs (the plan shows it; the step signs with what it is given). */
  readonly signing?: Settings["signing"];
}

/** Secrets the step gets from its runtime environment. */
export interface AttestSecrets {
  /** PEM private key for Sigstore bundles outside CI. */
  readonly signingKey?: string;
  /** Armored OpenPGP secret key SHA256SUMS is signed with (gpgSigningKey). */
  readonly gpgSigningKey?: string;
  readonly registryPassword?: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface AttestResult {
  readonly artifactDir: string;
  /** What signed the bundles: `keyless`, `key` (configured) or `throw-away key`. */
  readonly sigstoreSigning: string;
  /** Who: the certificate's subject (keyless), or the key's hint (sha256 of its public key). */
  readonly sigstoreSigner: string;
  /** What signed SHA256SUMS: the key id (aptlyGpgKey), `gpgSigningKey`, or `throw-away key`. */
  readonly checksumsSigning: string;
  /** The fingerprint of the key SHA256SUMS.asc is made with. */
  readonly checksumsFingerprint: string;
  /** Every file SHA256SUMS lists. */
  readonly files: readonly string[];
  readonly debSbom: string;
  /** Image → artifact manifest digest of its attached bundle. */
  readonly attached: Readonly<Record<string, string>>;
}

function signingMethod(request: AttestRequest, secrets: AttestSecrets): { method: SigningMethod; label: string } {
  if (hasCiIdentity(secrets.env)) return { method: { kind: "keyless", ...request.sigstore }, label: "keyless" };
  if (secrets.signingKey) return { method: { kind: "key", privateKeyPem: secrets.signingKey }, label: "key" };
  if (request.release)
    throw new UserError(
      "a release's Sigstore bundles need a signer, and none is here: no CI identity (id-token: write) and no " +
        "signingKey. Fix: run the release from publish.yml, or set signingKey (a PEM EC P-256 key, on standard input).",
    );
  return { method: { kind: "key", privateKeyPem: throwAwayKey().privateKeyPem }, label: "throw-away key" };
}

/** What the engine knows of an image: the registry digests it was pulled by, and its id. */
function inspectOnEngine(reference: string): { repoDigests: string[]; id: string } | undefined {
  try {
    const [digests, id] = execFileSync(
      "docker",
      ["image", "inspect", "--format", "{{json .RepoDigests}}\t{{.Id}}", reference],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    )
      .trim()
      .split("\t");
    return {
      repoDigests: (JSON.parse(digests) as string[] | null) ?? [],
      id: id.startsWith("sha256:") ? id : `sha256:${id}`,
    };
  } catch {
    return undefined;
  }
}

/** Who signed the bundle: its certificate's subject (keyless), or `key <hint>`. */
function signerOf(bundleJson: string): string {
  const bundle = JSON.parse(bundleJson) as { verificationMaterial?: { publicKey?: { hint?: string } } };
  const hint = bundle.verificationMaterial?.publicKey?.hint;
  return hint ? `key ${hint}` : (certificateSubjectOf(bundleJson) ?? "");
}

/** This project's commit, and whether its tree had changes (`unknown` outside a git checkout). */
export function projectState(dir: string): { commit: string; dirty: boolean } {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    return { commit: git("rev-parse", "HEAD"), dirty: git("status", "--porcelain", "--untracked-files=no") !== "" };
  } catch {
    return { commit: "unknown", dirty: true };
  }
}

export async function attest(
  request: AttestRequest,
  secrets: AttestSecrets,
  log: (line: string) => void,
): Promise<AttestResult> {
  const startedOn = new Date().toISOString();
  // Who signs is settled before anything is written or attached.
  const { method, label } = signingMethod(request, secrets);
  if (request.release && !secrets.gpgSigningKey && !request.gpgKey)
    throw new UserError(
      "a release's SHA256SUMS needs the release's GPG key, and none is set. Fix: set gpgSigningKey (on standard input) or aptlyGpgKey.",
    );

  const dir = request.artifactDir;
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };
  const debFile = basename(request.debPath);
  const debSha256 = await sha256File(request.debPath);
  const files = [debFile];

  log(`sbom: ${debFile}`);
  const debContents = readDebContents(request.debPath);
  files.push(
    write(FILES.debSbom(debFile), renderSbom(debSbomContents(debContents, debSha256, request.distro), request.distro)),
  );

  const subjects: Subject[] = [{ name: debFile, digest: { sha256: debSha256 } }];
  // What each image is known by: its registry digest when pushed, else its local id.
  const pushedDigests = request.images.map((image) => digestOfRef(image.pushedRef, image.repository));
  for (const [i, image] of request.images.entries()) {
    const digest = pushedDigests[i] ?? image.localId;
    log(`sbom: ${image.name} (${digest})`);
    const contents = await readImageContents(image.localId, image.venvs);
    const sbom = renderSbom(
      {
        subject: {
          type: "image",
          name: image.repository,
          version: request.provenance.ralph.version,
          purl: `pkg:oci/${image.name}@${encodeURIComponent(digest)}?repository_url=${encodeURIComponent(image.repository)}`,
          sha256: sha256Hex(digest),
        },
        ...contents,
      },
      request.distro,
    );
    files.push(write(FILES.imageSbom(image.name), sbom));
    subjects.push({
      name: image.repository,
      digest: { sha256: sha256Hex(digest) },
      ...(pushedDigests[i] ? {} : { annotations: { [LOCAL_ONLY]: true } }),
    });
  }

  const statement = provenanceStatement({
    ...request.provenance,
    baseImages: (request.baseImages ?? []).map(({ role, reference }) =>
      baseImageDependency(role, reference, inspectOnEngine(reference)),
    ),
    project: projectState(request.projectDir),
    subjects,
    startedOn,
    finishedOn: new Date().toISOString(),
  });
  files.push(write(FILES.provenance, `${JSON.stringify(statement, null, 2)}\n`));

  log(`sign: provenance (Sigstore, ${label})`);
  const provenanceBundle = await signStatement(statement, method);
  files.push(write(FILES.provenanceBundle, provenanceBundle));
  if (method.kind === "key") files.push(write(FILES.sigstoreKey, publicKeyPemOf(method.privateKeyPem)));
  // A key left by an earlier run would be taken for this run's signer.
  else rmSync(join(dir, FILES.sigstoreKey), { force: true });

  const attached: Record<string, string> = {};
  for (const [i, image] of request.images.entries()) {
    const subject = subjects[i + 1];
    const bundle = await signStatement(forSubject(statement, subject), method);
    files.push(write(FILES.imageBundle(image.name), bundle));
    const pushedDigest = pushedDigests[i];
    if (!pushedDigest) continue;
    const login = request.registryUsername
      ? { username: request.registryUsername, password: secrets.registryPassword ?? "" }
      : dockerConfigLogin(image.repository.split("/")[0], secrets.env);
    const repository = new OciRepository(image.repository, login);
    const target = await repository.resolve(pushedDigest);
    const artifact = await repository.attach(target, BUNDLE_MEDIA_TYPE, Buffer.from(bundle), {
      "dev.sigstore.bundle.content": "dsse-envelope",
      "dev.sigstore.bundle.predicateType": statement.predicateType,
    });
    attached[image.name] = artifact.digest;
    log(`attach: ${image.pushedRef} ← ${artifact.digest}`);
  }

  await writeChecksums(dir, files);
  const checksumsSigning = secrets.gpgSigningKey ? "gpgSigningKey" : (request.gpgKey ?? "throw-away key");
  const gpgKey = secrets.gpgSigningKey
    ? importedGpgKey(secrets.gpgSigningKey)
    : request.gpgKey
      ? { keyId: request.gpgKey }
      : throwAwayGpgKey(request.provenance.stack);
  let checksumsFingerprint: string;
  try {
    checksumsFingerprint = fingerprintOf(gpgKey);
    signChecksums(dir, gpgKey);
  } finally {
    // A home made for this signing (the imported key, a throw-away one) goes with it.
    if (gpgKey.gnupgHome) rmSync(gpgKey.gnupgHome, { recursive: true, force: true });
  }
  log(`sign: SHA256SUMS (GPG ${checksumsSigning}, ${checksumsFingerprint})`);
  return {
    artifactDir: dir,
    sigstoreSigning: label,
    sigstoreSigner: signerOf(provenanceBundle),
    checksumsSigning,
    checksumsFingerprint,
    files,
    debSbom: FILES.debSbom(debFile),
    attached,
  };
}
