/**
 * Sigstore's services on loopback: @sigstore/mock's Fulcio (a CA with a CT log) and Rekor handlers
 * behind a real HTTP server, and the trusted root a verifier needs for them. Never the public instance.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler } from "@sigstore/mock";

export interface MockSigstore {
  readonly fulcioUrl: string;
  readonly rekorUrl: string;
  /** trusted_root.json for these services. */
  readonly trustedRoot: unknown;
  /** Requests served, by path. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** An OIDC token as a CI hands it out (unsigned: the mock Fulcio reads, does not check, it). */
export function identityToken(
  subject: string,
  issuer = "https://token.actions.githubusercontent.com",
  claims: Record<string, string> = {},
): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, sub: subject, iss: issuer, aud: "sigstore" })}.`;
}

const der = (key: import("node:crypto").KeyObject) => key.export({ type: "spki", format: "der" });
const VALID = { start: "2000-01-01T00:00:00Z" };

export async function startMockSigstore(): Promise<MockSigstore> {
  const requests: string[] = [];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyPair = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ctKeys = keyPair();
  const ctlog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(keyPair(), ctlog);
  const tlogKeys = keyPair();
  const tlog = await initializeTLog(base, tlogKeys);
  const handlers = [fulcioHandler(ca), rekorHandler(tlog)];
  server.on("request", (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      requests.push(request.url ?? "");
      const handler = handlers.find((h) => h.path === request.url && request.method === "POST");
      if (!handler) {
        response.writeHead(404).end();
        return;
      }
      const { statusCode, response: body, contentType } = await handler.fn(Buffer.concat(chunks).toString());
      response.writeHead(statusCode, { "Content-Type": contentType ?? "text/plain" }).end(body);
    });
  });
  const keyOf = (publicKey: Buffer) => ({
    rawBytes: publicKey.toString("base64"),
    keyDetails: "PKIX_ECDSA_P256_SHA_256",
    validFor: VALID,
  });
  const logId = (publicKey: Buffer) => ({ keyId: createHash("sha256").update(publicKey).digest("base64") });
  const trustedRoot = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: base,
        hashAlgorithm: "SHA2_256",
        publicKey: keyOf(der(tlogKeys.publicKey)),
        logId: logId(der(tlogKeys.publicKey)),
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: "sigstore.mock", commonName: "sigstore" },
        uri: base,
        certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer).toString("base64") }] },
        validFor: VALID,
      },
    ],
    ctlogs: [
      { baseUrl: base, hashAlgorithm: "SHA2_256", publicKey: keyOf(ctlog.publicKey), logId: logId(ctlog.publicKey) },
    ],
    timestampAuthorities: [],
  };
  return {
    fulcioUrl: base,
    rekorUrl: base,
    trustedRoot,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
