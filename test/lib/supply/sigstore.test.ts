import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provenanceStatement } from "../../../lib/supply/provenance";
import { GITHUB_OIDC_ISSUER, signStatement, throwAwayKey, verifyStatementBundle } from "../../../lib/supply/sigstore";
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
  /** A bundle signed keyless for the token's claims, as Fulcio issues them. */
  const signedAs = async (subject: string, issuer?: string, claims: Record<string, string> = {}) => {
    process.env.SIGSTORE_ID_TOKEN = identityToken(subject, issuer, claims);
    return signStatement(statement, { kind: "keyless", fulcioUrl: sigstore.fulcioUrl, rekorUrl: sigstore.rekorUrl });
  };
  const release = { repository: "allegro/ralph", ref: "refs/tags/20241124.1" };
  const expected = () =>
    ({
      kind: "identity",
      identity: WORKFLOW,
      issuer: GITHUB_OIDC_ISSUER,
      sourceRepository: "https://github.com/allegro/ralph",
      sourceRef: "refs/tags/20241124.1",
      trustedRoot: sigstore.trustedRoot,
    }) as const;
  beforeAll(async () => {
    sigstore = await startMockSigstore();
  });
  afterAll(async () => {
    delete process.env.SIGSTORE_ID_TOKEN;
    await sigstore.close();
  });

  it("carry the workflow's identity, are logged in Rekor, and verify for exactly that identity, issuer, repository and ref", async () => {
    const bundle = await signedAs(WORKFLOW, undefined, release);
    expect(sigstore.requests).toEqual(["/api/v2/signingCert", "/api/v1/log/entries"]);
    expect(verifyStatementBundle(bundle, expected())).toEqual(statement);
    expect(() =>
      verifyStatementBundle(bundle, { ...expected(), identity: WORKFLOW.replace("ralph/", "fork/") }),
    ).toThrow(`signed by ${WORKFLOW}, expected exactly ${WORKFLOW.replace("ralph/", "fork/")}`);
  });

  it("an identity that only starts like the release's, an attacker's issuer, another repository or ref: each refused", async () => {
    const evil = `${WORKFLOW}0-evil`;
    const longer = await signedAs(evil, "https://attacker-issuer.example", release);
    expect(() => verifyStatementBundle(longer, expected())).toThrow(`signed by ${evil}, expected exactly ${WORKFLOW}`);
    // A pattern (its dots unescaped, as users write them) must match the whole subject.
    const pattern = { ...expected(), identity: undefined, identityRegexp: WORKFLOW };
    expect(() => verifyStatementBundle(longer, pattern)).toThrow("does not match ^(?:");
    const issuer = await signedAs(WORKFLOW, "https://attacker-issuer.example", release);
    expect(() => verifyStatementBundle(issuer, expected())).toThrow(
      `certificate issued for https://attacker-issuer.example, expected ${GITHUB_OIDC_ISSUER}`,
    );
    const fork = await signedAs(WORKFLOW, undefined, { ...release, repository: "someone/ralph" });
    expect(() => verifyStatementBundle(fork, expected())).toThrow(
      "certificate's source repository is https://github.com/someone/ralph, expected https://github.com/allegro/ralph",
    );
    const branch = await signedAs(WORKFLOW, undefined, { ...release, ref: "refs/heads/evil" });
    expect(() => verifyStatementBundle(branch, expected())).toThrow("certificate's source ref is refs/heads/evil");
    expect(verifyStatementBundle(await signedAs(WORKFLOW, undefined, release), pattern)).toEqual(statement);
  });
});
