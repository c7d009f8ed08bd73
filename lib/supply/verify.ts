/**
 * What a user checks before installing: the signature on SHA256SUMS and every sum, the provenance's
 * signature and subjects against the deb and the registry as it is now, the SBOMs against what the
 * artifacts really hold, and each image's attached Sigstore bundle. One line per check. No Pulumi.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { UserError } from "../errors";
import { FILES, LOCAL_ONLY } from "./files";
import { sha256File } from "../deb/build";
import { checkSums, SUMS, SUMS_KEY, SUMS_SIGNATURE, verifyChecksumsSignature } from "./checksums";
import { readDebContents } from "./debContents";
import type { Statement, Subject } from "./provenance";
import { dockerConfigLogin, type RegistryLogin } from "../images/registry";
import { OciRepository } from "./referrers";
import { debSbomContents, parseSbom, sbomDifferences } from "./sbom";
import { BUNDLE_MEDIA_TYPE, type ExpectedSigner, verifyStatementBundle } from "./sigstore";

export interface VerifyOptions {
  /** `build/<debianVersion>/` of the version. */
  readonly dir: string;
  /** Armored public GPG key SHA256SUMS.asc must be made with; default: the one written beside it. */
  readonly gpgKeyFile?: string;
  /** PEM public key the bundles must be signed with; default: `sigstore.pub` beside them. */
  readonly sigstoreKeyFile?: string;
  /** Keyless: the identity (certificate subject) the bundles must carry, and the trusted root. */
  readonly identity?: string;
  readonly issuer?: string;
  readonly trustedRootFile?: string;
  readonly registryLogin?: RegistryLogin;
}

export interface CheckLine {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

const BESIDE = "from the build directory: shows integrity, not who signed; pass";

/** The directory in `dir` holding the attested build of `version`: by name, else by what its provenance says. */
function attestedBuildIn(dir: string, version: string): string | undefined {
  if (existsSync(join(dir, version, FILES.provenance))) return join(dir, version);
  const found = (existsSync(dir) ? readdirSync(dir) : []).find((entry) => {
    const file = join(dir, entry, FILES.provenance);
    if (!existsSync(file)) return false;
    const statement = JSON.parse(readFileSync(file, "utf8")) as Statement;
    const parameters = (statement.predicate.buildDefinition as { externalParameters?: { version?: string } })
      .externalParameters;
    return parameters?.version === version;
  });
  return found && join(dir, found);
}

/**
 * `build/<version>/` (a release's), else `build/snapshots/<version>/`, else the build directory whose
 * provenance is of `version` (snapshots' directories are named by their Debian version).
 */
export function artifactDirFor(buildDir: string, version: string): string {
  const found = attestedBuildIn(buildDir, version) ?? attestedBuildIn(join(buildDir, "snapshots"), version);
  if (!found)
    throw new UserError(
      `No attested build of ${version} in ${buildDir}. Fix: run the pipeline for it (npm run up), or give the directory with --dir.`,
    );
  return found;
}

function expectedSigner(options: VerifyOptions): { signer?: ExpectedSigner; note: string } {
  if (options.identity) {
    if (!options.trustedRootFile) return { note: "--identity needs --trusted-root (Sigstore's trusted_root.json)" };
    return {
      signer: {
        kind: "identity",
        identity: options.identity,
        issuer: options.issuer,
        trustedRoot: JSON.parse(readFileSync(options.trustedRootFile, "utf8")),
      },
      note: `identity ${options.identity}`,
    };
  }
  const keyFile = options.sigstoreKeyFile ?? join(options.dir, FILES.sigstoreKey);
  if (!existsSync(keyFile))
    return { note: "keyless bundle: pass --identity <certificate subject> --trusted-root <file>" };
  const note = options.sigstoreKeyFile ? `key ${options.sigstoreKeyFile}` : `key ${BESIDE} --key`;
  return { signer: { kind: "key", publicKeyPem: readFileSync(keyFile, "utf8") }, note };
}

/** Runs one check: its line says what it found, or the first line of why it failed. */
async function attempt(check: string, run: () => string | Promise<string>): Promise<CheckLine> {
  try {
    return { check, ok: true, detail: await run() };
  } catch (error) {
    return { check, ok: false, detail: (error as Error).message.split("\n")[0] };
  }
}

function checkImageSbom(dir: string, image: string, subject: Subject): Promise<CheckLine> {
  return attempt(`sbom ${image}`, () => {
    const sbom = parseSbom(readFileSync(join(dir, FILES.imageSbom(image)), "utf8"));
    if (sbom.subject.sha256 !== subject.digest.sha256)
      throw new Error(`describes sha256:${sbom.subject.sha256}, the image is sha256:${subject.digest.sha256}`);
    return `describes sha256:${subject.digest.sha256.slice(0, 12)}… (${sbom.installed?.length ?? 0} Debian packages, ${sbom.python.length} Python)`;
  });
}

async function checkImage(
  options: VerifyOptions,
  subject: Subject,
  version: string,
  signer: ExpectedSigner | undefined,
): Promise<CheckLine[]> {
  const image = subject.name.split("/").pop()!;
  const digest = `sha256:${subject.digest.sha256}`;
  const sbom = await checkImageSbom(options.dir, image, subject);
  if (subject.annotations?.[LOCAL_ONLY])
    return [
      {
        check: `image ${image}`,
        ok: true,
        detail: `built locally (${digest.slice(0, 19)}…), not pushed: nothing to compare`,
      },
      sbom,
    ];
  const login = options.registryLogin ?? dockerConfigLogin(subject.name.split("/")[0]);
  const repository = new OciRepository(subject.name, login);
  const served = await attempt(`image ${subject.name}:${version}`, async () => {
    const now = await repository.resolve(version);
    if (now.digest !== digest) throw new Error(`the registry serves ${now.digest}, the provenance names ${digest}`);
    return `the registry serves ${digest}`;
  });
  const bundle = await attempt(`bundle ${image}`, async () => {
    if (!signer) throw new Error("no signer to check against");
    const referrers = (await repository.referrers(digest)).filter((d) => d.artifactType === BUNDLE_MEDIA_TYPE);
    if (referrers.length === 0) throw new Error(`no Sigstore bundle attached to ${subject.name}@${digest}`);
    const failures: string[] = [];
    for (const referrer of referrers) {
      try {
        const manifest = await repository.getManifest(referrer.digest);
        const layer = (manifest?.body.layers as { digest: string }[] | undefined)?.[0];
        if (!layer) throw new Error("attached manifest has no layer");
        const statement = verifyStatementBundle((await repository.getBlob(layer.digest)).toString(), signer);
        if (!statement.subject.some((s) => s.digest.sha256 === subject.digest.sha256))
          throw new Error("its statement is about another image");
        return `attached ${referrer.digest.slice(0, 19)}…, verified, about this digest`;
      } catch (error) {
        failures.push((error as Error).message.split("\n")[0]);
      }
    }
    throw new Error(`${referrers.length} attached, none verifies: ${failures.join("; ")}`);
  });
  return [served, bundle, sbom];
}

export async function verifyRelease(options: VerifyOptions): Promise<CheckLine[]> {
  const { dir } = options;
  const lines: CheckLine[] = [];
  const gpgKeyFile = options.gpgKeyFile ?? join(dir, SUMS_KEY);
  lines.push(
    await attempt(`signature ${SUMS_SIGNATURE}`, () => {
      const fingerprint = verifyChecksumsSignature(dir, gpgKeyFile);
      return options.gpgKeyFile ? `good, by ${fingerprint}` : `good, by ${fingerprint} (key ${BESIDE} --gpg-key)`;
    }),
  );
  if (!existsSync(join(dir, SUMS))) lines.push({ check: `sha256 ${SUMS}`, ok: false, detail: "missing" });
  else
    for (const sum of await checkSums(dir))
      lines.push({ check: `sha256 ${sum.file}`, ok: sum.problem === undefined, detail: sum.problem ?? "matches" });

  const { signer, note } = expectedSigner(options);
  let statement: Statement | undefined;
  lines.push(
    await attempt(`signature ${FILES.provenanceBundle}`, () => {
      if (!signer) throw new Error(note);
      statement = verifyStatementBundle(readFileSync(join(dir, FILES.provenanceBundle), "utf8"), signer);
      return `good, ${note}`;
    }),
  );
  // Unverified, the plain statement still says what to compare (SHA256SUMS covers it): every check reports.
  if (!statement && !existsSync(join(dir, FILES.provenance))) return lines;
  statement ??= JSON.parse(readFileSync(join(dir, FILES.provenance), "utf8")) as Statement;
  const debSubject = statement.subject.find((s) => s.name.endsWith(".deb"));
  const debPath = debSubject && join(dir, basename(debSubject.name));
  // Read once: the provenance and the SBOM are both checked against the deb as it is.
  const debSha256 = debPath && existsSync(debPath) ? await sha256File(debPath) : undefined;
  lines.push(
    await attempt(`provenance ${debSubject?.name ?? "deb"}`, () => {
      if (!debSha256) throw new Error("the provenance names no deb in this directory");
      if (debSha256 !== debSubject!.digest.sha256)
        throw new Error(`the deb is sha256 ${debSha256}, the provenance names ${debSubject!.digest.sha256}`);
      return `names this deb (sha256 ${debSha256.slice(0, 12)}…)`;
    }),
  );
  lines.push(
    await attempt(`sbom ${debSubject ? FILES.debSbom(basename(debSubject.name)) : "deb"}`, () => {
      if (!debPath || !debSha256) throw new Error("no deb to compare with");
      const stated = parseSbom(readFileSync(join(dir, FILES.debSbom(basename(debPath))), "utf8"));
      const actual = debSbomContents(readDebContents(debPath), debSha256, "");
      const differences = sbomDifferences(stated, actual);
      if (differences.length > 0) throw new Error(differences.join("; "));
      return `lists what the deb holds (${actual.python.length} Python distributions, ${actual.depends?.length ?? 0} Depends)`;
    }),
  );
  const version = (statement.predicate.buildDefinition as { externalParameters: { version: string } })
    .externalParameters.version;
  for (const subject of statement.subject.filter((s) => s !== debSubject))
    lines.push(...(await checkImage(options, subject, version, signer)));
  return lines;
}

export function renderCheckLines(lines: readonly CheckLine[]): string {
  return lines.map((line) => `${line.ok ? "✓" : "✗"} ${line.check}: ${line.detail}`).join("\n");
}
