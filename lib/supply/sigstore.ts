/**
 * Sigstore bundles: DSSE envelopes over in-toto statements, signed keyless (a Fulcio certificate for
 * the CI's OIDC identity, logged in Rekor) or with a key, and their verification. No Pulumi.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { type Bundle, bundleFromJSON, bundleToJSON } from "@sigstore/bundle";
import {
  CIContextProvider,
  DSSEBundleBuilder,
  FulcioSigner,
  RekorWitness,
  type Signer,
  type Witness,
} from "@sigstore/sign";
import { ASN1Obj, X509Certificate } from "@sigstore/core";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { IN_TOTO_PAYLOAD_TYPE, parseStatement, type Statement } from "./provenance";

export const BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

/** How bundles are signed: the CI's identity (keyless), or a PEM private key. */
export type SigningMethod =
  | { readonly kind: "keyless"; readonly fulcioUrl: string; readonly rekorUrl: string }
  | { readonly kind: "key"; readonly privateKeyPem: string };

export { hasCiIdentity } from "./ciIdentity";

/** A throw-away ECDSA P-256 key (PEM), for builds with no key configured. */
export function throwAwayKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** The public key's hint as cosign and Sigstore write it: sha256 of its DER SubjectPublicKeyInfo. */
export const keyHint = (publicKey: KeyObject) =>
  createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");

export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "pem" }).toString();
}

function keySigner(privateKeyPem: string): Signer {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  return {
    async sign(data: Buffer) {
      return {
        signature: sign("sha256", data, privateKey),
        key: {
          $case: "publicKey",
          publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
          hint: keyHint(publicKey),
        },
      };
    },
  };
}

/** Signs the statement as a DSSE bundle; returns the bundle's JSON text. */
export async function signStatement(statement: Statement, method: SigningMethod): Promise<string> {
  let signer: Signer;
  let witnesses: Witness[] = [];
  if (method.kind === "keyless") {
    signer = new FulcioSigner({ identityProvider: new CIContextProvider("sigstore"), fulcioBaseURL: method.fulcioUrl });
    witnesses = [new RekorWitness({ rekorBaseURL: method.rekorUrl, entryType: "intoto" })];
  } else {
    signer = keySigner(method.privateKeyPem);
  }
  const builder = new DSSEBundleBuilder({ signer, witnesses });
  const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE });
  return `${JSON.stringify(bundleToJSON(bundle))}\n`;
}

/** GitHub Actions' OIDC issuer: what the publish workflow's keyless certificates name. */
export const GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com";

/** Fulcio's certificate extensions (v2, DER UTF8String values): who asked, from which repository and ref. */
const OID = {
  issuer: "1.3.6.1.4.1.57264.1.8",
  sourceRepositoryUri: "1.3.6.1.4.1.57264.1.12",
  sourceRepositoryRef: "1.3.6.1.4.1.57264.1.14",
} as const;

/** Who a bundle must be signed by: a public key, or a keyless identity under a trusted root. */
export type ExpectedSigner =
  | { readonly kind: "key"; readonly publicKeyPem: string }
  | {
      readonly kind: "identity";
      /** The certificate's subject, exactly (a workflow URL, an e-mail)… */
      readonly identity?: string;
      /** …or a pattern the whole subject must match (anchored here, whatever the caller wrote). */
      readonly identityRegexp?: string;
      /** The OIDC issuer the certificate must name, exactly. */
      readonly issuer: string;
      /** `https://github.com/<owner>/<repo>` and `refs/tags/<version>` the certificate must name, when known. */
      readonly sourceRepository?: string;
      readonly sourceRef?: string;
      /** Sigstore's trusted_root.json (the public instance's, or a private deployment's). */
      readonly trustedRoot: unknown;
    };

const EMPTY_ROOT = {
  mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

/**
 * Verifies the bundle's signature for `expected` and returns the in-toto statement it signs; throws
 * with the reason (wrong key, other identity, tampered payload).
 */
export function verifyStatementBundle(bundleJson: string, expected: ExpectedSigner): Statement {
  const bundle: Bundle = bundleFromJSON(JSON.parse(bundleJson));
  if (bundle.content.$case !== "dsseEnvelope") throw new Error("the bundle holds no DSSE envelope");
  if (expected.kind === "key") {
    const publicKey = createPublicKey(expected.publicKeyPem);
    const hint = keyHint(publicKey);
    const trust = toTrustMaterial(EMPTY_ROOT as never, (wanted: string) => {
      if (wanted !== hint) throw new Error(`signed by key ${wanted || "(no hint)"}, expected ${hint}`);
      return { publicKey, validFor: () => true };
    });
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle));
  } else {
    const { TrustedRoot } = require("@sigstore/protobuf-specs") as typeof import("@sigstore/protobuf-specs");
    const trust = toTrustMaterial(TrustedRoot.fromJSON(expected.trustedRoot));
    // No policy handed to the verifier: it matches the subject as an unanchored pattern. Compared here.
    new Verifier(trust).verify(toSignedEntity(bundle));
    checkCertificateIdentity(signingCertificate(bundle), expected);
  }
  return parseStatement(bundle.content.dsseEnvelope.payload);
}

/** The subject of the certificate a keyless bundle is signed with; undefined for a key's bundle. */
export function certificateSubjectOf(bundleJson: string): string | undefined {
  try {
    return signingCertificate(bundleFromJSON(JSON.parse(bundleJson))).subjectAltName;
  } catch {
    return undefined;
  }
}

function signingCertificate(bundle: Bundle): X509Certificate {
  const material = bundle.verificationMaterial.content;
  const raw =
    material.$case === "certificate"
      ? material.certificate.rawBytes
      : material.$case === "x509CertificateChain"
        ? material.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  if (!raw) throw new Error("the bundle is signed by a key, not a certificate: pass --key");
  return X509Certificate.parse(Buffer.from(raw));
}

/** A v2 Fulcio extension's text: its extnValue holds a DER UTF8String. */
function extensionText(certificate: X509Certificate, oid: string): string | undefined {
  const extension = certificate.extension(oid);
  return extension && ASN1Obj.parseBuffer(Buffer.from(extension.value)).value.toString("utf8");
}

/** The certificate names exactly the expected subject, issuer, repository and ref; else why not. */
function checkCertificateIdentity(
  certificate: X509Certificate,
  expected: Extract<ExpectedSigner, { kind: "identity" }>,
): void {
  const subject = certificate.subjectAltName;
  if (subject === undefined) throw new Error("the certificate names no subject");
  if (expected.identity !== undefined && subject !== expected.identity)
    throw new Error(`signed by ${subject}, expected exactly ${expected.identity}`);
  if (expected.identityRegexp !== undefined && !new RegExp(`^(?:${expected.identityRegexp})$`).test(subject))
    throw new Error(`signed by ${subject}, which does not match ^(?:${expected.identityRegexp})$ as a whole`);
  const issuer = extensionText(certificate, OID.issuer);
  if (issuer !== expected.issuer)
    throw new Error(`certificate issued for ${issuer ?? "no issuer"}, expected ${expected.issuer}`);
  const checks: [string | undefined, string, string][] = [
    [expected.sourceRepository, OID.sourceRepositoryUri, "source repository"],
    [expected.sourceRef, OID.sourceRepositoryRef, "source ref"],
  ];
  for (const [wanted, oid, what] of checks) {
    if (wanted === undefined) continue;
    const named = extensionText(certificate, oid);
    // GitHub's owner and repository names are not case-sensitive; refs are.
    const same = oid === OID.sourceRepositoryUri ? named?.toLowerCase() === wanted.toLowerCase() : named === wanted;
    if (!same) throw new Error(`certificate's ${what} is ${named ?? "not named"}, expected ${wanted}`);
  }
}
