import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provenanceStatement } from "../../../lib/supply/provenance";
import { signStatement, throwAwayKey, verifyStatementBundle } from "../../../lib/supply/sigstore";
import { identityToken, type MockSigstore, startMockSigstore } from "../../support/sigstore";

const WORKFLOW = "https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/20241124.1";
const statement = provenanceStatement({
  subjects: [{ name: "ralph-core_20241124.1_amd64.deb", digest: { sha256: "a".repeat(64) } }],
  ralph: { repository: "https://github.com/allegro/ralph", commit: "c".repeat(40), version: "20241124.1" },
  project: { commit: "d".repeat(40), dirty: false },
  builderImage: `sha256:${"b".repeat(64)}`,
  config: { distribution: "debian/bookworm" },
  stack: "release",
  startedOn: "2024-11-24T09:00:00Z",
  finishedOn: "2024-11-24T09:10:00Z",
});

describe("Sigstore bundles signed with a key", () => {
  it("verify for that key and return the statement; another key is refused", async () => {
    const key = throwAwayKey();
    const bundle = await signStatement(statement, { kind: "key", privateKeyPem: key.privateKeyPem });
    expect(verifyStatementBundle(bundle, { kind: "key", publicKeyPem: key.publicKeyPem })).toEqual(statement);
    const other = throwAwayKey();
    expect(() => verifyStatementBundle(bundle, { kind: "key", publicKeyPem: other.publicKeyPem })).toThrow(/expected/);
  });

  it("a changed payload fails verification", async () => {
    const key = throwAwayKey();
    const bundle = JSON.parse(await signStatement(statement, { kind: "key", privateKeyPem: key.privateKeyPem }));
    const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString());
    payload.subject[0].digest.sha256 = "f".repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString("base64");
    expect(() =>
      verifyStatementBundle(JSON.stringify(bundle), { kind: "key", publicKeyPem: key.publicKeyPem }),
    ).toThrow(/^signature verification failed$/);
  });
});

describe("keyless Sigstore bundles (mock Fulcio and Rekor on loopback)", () => {
  let sigstore: MockSigstore;
  beforeAll(async () => {
    sigstore = await startMockSigstore();
    process.env.SIGSTORE_ID_TOKEN = identityToken(WORKFLOW);
  });
  afterAll(async () => {
    delete process.env.SIGSTORE_ID_TOKEN;
    await sigstore.close();
  });

  it("carry the workflow's identity, are logged in Rekor, and verify only for that identity", async () => {
    const bundle = await signStatement(statement, {
      kind: "keyless",
      fulcioUrl: sigstore.fulcioUrl,
      rekorUrl: sigstore.rekorUrl,
    });
    expect(sigstore.requests).toEqual(["/api/v2/signingCert", "/api/v1/log/entries"]);
    const expected = { kind: "identity", identity: WORKFLOW, trustedRoot: sigstore.trustedRoot } as const;
    expect(verifyStatementBundle(bundle, expected)).toEqual(statement);
    expect(() => verifyStatementBundle(bundle, { ...expected, identity: WORKFLOW.replace("ralph/", "fork/") })).toThrow(
      `certificate identity error - expected ${WORKFLOW.replace("ralph/", "fork/")}, got ${WORKFLOW}`,
    );
  });
});
