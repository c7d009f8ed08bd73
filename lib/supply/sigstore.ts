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
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { IN_TOTO_PAYLOAD_TYPE, parseStatement, type Statement } from "./provenance";

export const BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

/** How bundles are signed: the CI's identity (keyless), or a PEM private key. */
export type SigningMethod =
  | { readonly kind: "keyless"; readonly fulcioUrl: string; readonly rekorUrl: string }
  | { readonly kind: "key"; readonly privateKeyPem: string };

/** An OIDC identity is there to sign with: GitHub Actions' (`id-token: write`) or SIGSTORE_ID_TOKEN. */
export const hasCiIdentity = (env: NodeJS.ProcessEnv) =>
  Boolean((env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) || env.SIGSTORE_ID_TOKEN);

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

/** Who a bundle must be signed by: a public key, or a keyless identity under a trusted root. */
export type ExpectedSigner =
  | { readonly kind: "key"; readonly publicKeyPem: string }
  | {
      readonly kind: "identity";
      /** The certificate's subject (a workflow URL, an e-mail). */
      readonly identity: string;
      readonly issuer?: string;
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
    new Verifier(trust).verify(toSignedEntity(bundle), {
      subjectAlternativeName: expected.identity,
      extensions: expected.issuer ? { issuer: expected.issuer } : undefined,
    });
  }
  return parseStatement(bundle.content.dsseEnvelope.payload);
}
