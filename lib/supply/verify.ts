/**
 * What a user checks before installing: the signature on SHA256SUMS and every sum, the provenance's
 * signature and subjects against the deb and the registry as it is now, the SBOMs against what the
 * artifacts really hold, and each image's attached Sigstore bundle. One line per check. No Pulumi.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { UserError } from "../errors";
import { FILES, LOCAL_ONLY } from "./files";
import { sha256File } from "../deb/build";
import { checkSums, SUMS, SUMS_SIGNATURE, verifyChecksumsSignature } from "./checksums";
import { readDebContents } from "./debContents";
import { parseStatement, type Statement, type Subject } from "./provenance";
import { dockerConfigLogin, type RegistryLogin } from "../images/registry";
import { OciRepository } from "./referrers";
import { debSbomContents, parseSbom, sbomDifferences } from "./sbom";
import { BUNDLE_MEDIA_TYPE, type ExpectedSigner, GITHUB_OIDC_ISSUER, verifyStatementBundle } from "./sigstore";

export interface VerifyOptions {
  /** The build's directory (`build/<debianVersion>/`, or the release's downloaded assets). */
  readonly dir: string;
  /** The version asked for: the provenance must be of it. */
  readonly version: string;
  /** Armored public GPG key SHA256SUMS.asc must be made with (the release's, from its maintainers). */
  readonly gpgKeyFile?: string;
  /** PEM public key the bundles must be signed with. */
  readonly sigstoreKeyFile?: string;
  /** Keyless: the certificate subject the bundles must carry, exactly, or a pattern it must match whole. */
  readonly identity?: string;
  readonly identityRegexp?: string;
  /** Keyless: the OIDC issuer the certificate must name; default GitHub Actions'. */
  readonly issuer?: string;
  readonly trustedRootFile?: string;
  /** `owner/repo` the release is of: a keyless certificate must name it and the version's tag. */
  readonly repository?: string;
  readonly registryLogin?: RegistryLogin;
}

export interface CheckLine {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  /** Not made, for a reason the detail gives (another anchor carries the trust): counts as no failure. */
  readonly skipped?: boolean;
}

const NO_ANCHOR =
  "no trust anchor: keys beside a build show only that its files agree with each other (whoever swapped " +
  "them put their own keys there). Pass the release's key (--gpg-key FILE, --key FILE) or its signer " +
  "(--identity, with --trusted-root)";

const readJson = (file: string, what: string): unknown => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${what} ${basename(file)} is not readable JSON (${(error as Error).message.split("\n")[0]})`);
  }
};

/** The directory in `dir` holding the attested build of `version`: by name, else by what its provenance says. */
function attestedBuildIn(dir: string, version: string): string | undefined {
  if (existsSync(join(dir, version, FILES.provenance))) return join(dir, version);
  const found = (existsSync(dir) ? readdirSync(dir) : []).find((entry) => {
    const file = join(dir, entry, FILES.provenance);
    if (!existsSync(file)) return false;
    try {
      return statementVersion(JSON.parse(readFileSync(file, "utf8")) as Statement) === version;
    } catch {
      return false;
    }
  });
  return found && join(dir, found);
}

function statementVersion(statement: Statement): string | undefined {
  const parameters = (statement.predicate?.buildDefinition as { externalParameters?: { version?: unknown } })
    ?.externalParameters;
  return typeof parameters?.version === "string" ? parameters.version : undefined;
}

/**
 * `build/<version>/` (a release's), else `build/snapshots/<version>/`, else the build directory whose
 * provenance is of `version` (snapshots' directories are named by their Debian version).
 */
export function artifactDirFor(buildDir: string, version: string): string {
  const found = attestedBuildIn(buildDir, version) ?? attestedBuildIn(join(buildDir, "snapshots"), version);
  if (!found)
    throw new UserError(
      `No attested build of ${version} in ${buildDir}. Fix: run the pipeline for it (npm run up), give the ` +
        "directory with --dir, or check a GitHub release's assets with --github <owner/repo>.",
    );
  return found;
}

/** A GitHub workflow's identity: `https://github.com/<owner>/<repo>/.github/workflows/<file>@<ref>`. */
const WORKFLOW_IDENTITY = /^(https:\/\/github\.com\/[^/]+\/[^/]+)\/\.github\/workflows\/[^@]+@(refs\/\S+)$/;

/**
 * The repository and ref a keyless certificate must name: those of --github and the version's tag,
 * else those an exact workflow identity names. A pattern alone pins neither.
 */
function expectedSource(options: VerifyOptions): { sourceRepository?: string; sourceRef?: string } {
  if (options.repository)
    return { sourceRepository: `https://github.com/${options.repository}`, sourceRef: `refs/tags/${options.version}` };
  const workflow = options.identity ? WORKFLOW_IDENTITY.exec(options.identity) : null;
  return workflow ? { sourceRepository: workflow[1], sourceRef: workflow[2] } : {};
}

/** Whether any key or signer was given to check against. */
const anchored = (options: VerifyOptions) =>
  Boolean(options.gpgKeyFile || options.sigstoreKeyFile || options.identity || options.identityRegexp);

/**
 * Who the bundles must be signed by: the signer given; else, once SHA256SUMS is proven by --gpg-key,
 * the key it lists beside the build. Undefined with the reason (a failure, or a skip another anchor covers).
 */
function expectedSigner(
  options: VerifyOptions,
  sumsVouchFor: (file: string) => boolean,
): { signer?: ExpectedSigner; note: string; skip?: boolean } {
  if (options.identity || options.identityRegexp) {
    if (!options.trustedRootFile)
      return {
        note: "--identity needs --trusted-root (Sigstore's trusted_root.json: `cosign trusted-root create`, or sigstore/root-signing's)",
      };
    const issuer = options.issuer ?? GITHUB_OIDC_ISSUER;
    return {
      signer: {
        kind: "identity",
        identity: options.identity,
        identityRegexp: options.identityRegexp,
        issuer,
        ...expectedSource(options),
        trustedRoot: readJson(options.trustedRootFile, "--trusted-root"),
      },
      note:
        `identity ${options.identity ?? `matching ^(?:${options.identityRegexp})$`}, issuer ${issuer}` +
        (options.repository ? `, from ${options.repository} at refs/tags/${options.version}` : ""),
    };
  }
  if (options.sigstoreKeyFile)
    return {
      signer: { kind: "key", publicKeyPem: readFileSync(options.sigstoreKeyFile, "utf8") },
      note: `key ${options.sigstoreKeyFile}`,
    };
  if (!options.gpgKeyFile) return { note: NO_ANCHOR };
  const beside = join(options.dir, FILES.sigstoreKey);
  if (existsSync(beside) && sumsVouchFor(FILES.sigstoreKey))
    return {
      signer: { kind: "key", publicKeyPem: readFileSync(beside, "utf8") },
      note: `key ${FILES.sigstoreKey}, listed in SHA256SUMS signed by --gpg-key`,
    };
  if (existsSync(beside))
    return {
      note: `${FILES.sigstoreKey} is not vouched for: SHA256SUMS's signature by --gpg-key or its sum of it failed`,
    };
  return {
    note: "keyless bundle, not checked: pass --identity (the publish workflow) and --trusted-root to check who signed it; SHA256SUMS, signed by --gpg-key, covers it",
    skip: true,
  };
}

/** Runs one check: its line says what it found, or the first line of why it failed. */
async function attempt(check: string, run: () => string | Promise<string>): Promise<CheckLine> {
  try {
    return { check, ok: true, detail: await run() };
  } catch (error) {
    return { check, ok: false, detail: (error as Error).message.split("\n")[0] };
  }
}

function checkImageSbom(dir: string, image: string, subject: Subject, sumsAnchored: boolean): Promise<CheckLine> {
  return attempt(`sbom ${image}`, () => {
    const sbom = parseSbom(readFileSync(join(dir, FILES.imageSbom(image)), "utf8"));
    if (sbom.subject.sha256 !== subject.digest.sha256)
      throw new Error(`describes sha256:${sbom.subject.sha256}, the image is sha256:${subject.digest.sha256}`);
    // Unlike the deb's, an image's SBOM is not re-read from the image: its list is as good as SHA256SUMS.
    const listed = sumsAnchored ? "" : "; its package list is covered by no anchor (no --gpg-key)";
    return `describes sha256:${subject.digest.sha256.slice(0, 12)}… (${sbom.installed?.length ?? 0} Debian packages, ${sbom.python.length} Python)${listed}`;
  });
}

async function checkImage(
  options: VerifyOptions,
  subject: Subject,
  version: string,
  bundleSigner: { signer?: ExpectedSigner; note: string; skip?: boolean },
  sumsAnchored: boolean,
): Promise<CheckLine[]> {
  const image = subject.name.split("/").pop()!;
  const digest = `sha256:${subject.digest.sha256}`;
  const sbom = await checkImageSbom(options.dir, image, subject, sumsAnchored);
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
  const { signer } = bundleSigner;
  if (!signer && bundleSigner.skip)
    return [served, { check: `bundle ${image}`, ok: true, skipped: true, detail: bundleSigner.note }, sbom];
  const bundle = await attempt(`bundle ${image}`, async () => {
    if (!signer) throw new Error(bundleSigner.note);
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
  if (!anchored(options)) lines.push({ check: "trust anchor", ok: false, detail: NO_ANCHOR });
  const { gpgKeyFile } = options;
  const sumsSignature: CheckLine = gpgKeyFile
    ? await attempt(`signature ${SUMS_SIGNATURE}`, () => `good, by ${verifyChecksumsSignature(dir, gpgKeyFile)}`)
    : {
        check: `signature ${SUMS_SIGNATURE}`,
        ok: true,
        skipped: true,
        detail: "not checked: no --gpg-key (the key beside it proves nothing)",
      };
  lines.push(sumsSignature);
  let sums: Awaited<ReturnType<typeof checkSums>> = [];
  const sumsRead = await attempt(`sha256 ${SUMS}`, async () => {
    if (!existsSync(join(dir, SUMS))) throw new Error("missing");
    sums = await checkSums(dir);
    return "read";
  });
  if (!sumsRead.ok) lines.push(sumsRead);
  for (const sum of sums)
    lines.push({ check: `sha256 ${sum.file}`, ok: sum.problem === undefined, detail: sum.problem ?? "matches" });
  const sumsVouchFor = (file: string) =>
    Boolean(gpgKeyFile) && sumsSignature.ok && sums.some((sum) => sum.file === file && sum.problem === undefined);

  let bundleSigner: ReturnType<typeof expectedSigner> = { note: NO_ANCHOR };
  let statement: Statement | undefined;
  let verifiedStatement = false;
  lines.push(
    await attempt(`signature ${FILES.provenanceBundle}`, () => {
      bundleSigner = expectedSigner(options, sumsVouchFor);
      if (!bundleSigner.signer) throw new Error(bundleSigner.note);
      statement = verifyStatementBundle(readFileSync(join(dir, FILES.provenanceBundle), "utf8"), bundleSigner.signer);
      verifiedStatement = true;
      return `good, ${bundleSigner.note}`;
    }),
  );
  if (!bundleSigner.signer && bundleSigner.skip) {
    const line = lines.pop()!;
    lines.push({ ...line, ok: true, skipped: true, detail: bundleSigner.note });
  }
  // Unverified, the plain statement still says what to compare (SHA256SUMS covers it): every check reports.
  if (!statement && !existsSync(join(dir, FILES.provenance))) return lines;
  if (!statement) {
    const read = await attempt(`provenance ${FILES.provenance}`, () => {
      statement = parseStatement(readFileSync(join(dir, FILES.provenance)));
      return "readable";
    });
    if (!statement) return [...lines, read];
  }
  const provenance: Statement = statement!;
  // What may be acted on (registries asked, with credentials): a statement whose signature verified,
  // or one SHA256SUMS lists and --gpg-key vouches for. Anything else is only compared, offline.
  const trusted = verifiedStatement || sumsVouchFor(FILES.provenance);
  lines.push(
    await attempt("provenance version", () => {
      const stated = statementVersion(provenance);
      if (stated !== options.version)
        throw new Error(`the provenance is of ${stated ?? "no version"}, ${options.version} was asked for`);
      return `of ${stated}`;
    }),
  );
  const debSubject = provenance.subject.find((s) => s.name.endsWith(".deb"));
  const debPath = debSubject && join(dir, basename(debSubject.name));
  // Read once: the provenance and the SBOM are both checked against the deb as it is.
  const debSha256 =
    debPath && existsSync(debPath) && statSync(debPath).isFile() ? await sha256File(debPath) : undefined;
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
  for (const subject of provenance.subject.filter((s) => s !== debSubject)) {
    if (!trusted) {
      lines.push({
        check: `image ${subject.name}`,
        ok: false,
        detail: "not asked of its registry: the provenance naming it is vouched for by no anchor",
      });
      continue;
    }
    lines.push(...(await checkImage(options, subject, options.version, bundleSigner, Boolean(gpgKeyFile))));
  }
  return lines;
}

export function renderCheckLines(lines: readonly CheckLine[]): string {
  return lines.map((line) => `${line.skipped ? "–" : line.ok ? "✓" : "✗"} ${line.check}: ${line.detail}`).join("\n");
}
