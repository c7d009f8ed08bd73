/**
 * SHA256SUMS and its detached GPG signature (`SHA256SUMS.asc`), as Debian users check them. No Pulumi.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { sha256File } from "../deb/build";

export const SUMS = "SHA256SUMS";
/** What a file the supply chain names may be called: no directory, nothing hidden. */
export const PLAIN_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;
export const SUMS_SIGNATURE = "SHA256SUMS.asc";
/** The public half of the key SHA256SUMS.asc was made with, written beside it. */
export const SUMS_KEY = "SHA256SUMS.key.asc";

/** Writes `<dir>/SHA256SUMS` for `files` (paths in `dir`), sorted by name; returns its path. */
export async function writeChecksums(dir: string, files: readonly string[]): Promise<string> {
  const names = [...files].map((file) => basename(file)).sort();
  const lines = await Promise.all(names.map(async (name) => `${await sha256File(join(dir, name))}  ${name}\n`));
  const path = join(dir, SUMS);
  writeFileSync(path, lines.join(""));
  return path;
}

export interface SumCheck {
  readonly file: string;
  /** Undefined when the file is there with the listed sum. */
  readonly problem?: string;
}

/** A SHA256SUMS line (`<sha256>  <file>`, or ` *` for binary mode) → its parts; undefined for any other. */
export function parseSumsLine(line: string): { sha256: string; file: string } | undefined {
  const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
  return match ? { sha256: match[1], file: match[2] } : undefined;
}

/** Every line of SHA256SUMS against the file it names. */
export function checkSums(dir: string): Promise<SumCheck[]> {
  const lines = readFileSync(join(dir, SUMS), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");
  return Promise.all(
    lines.map(async (line): Promise<SumCheck> => {
      const parsed = parseSumsLine(line);
      if (!parsed) return { file: line, problem: "not a SHA256SUMS line" };
      const { sha256: listed, file } = parsed;
      // Only files of this directory, by plain name: never a path out of it, a pipe or a device.
      if (!PLAIN_FILE_NAME.test(file)) return { file, problem: "not a plain file name of this directory" };
      if (!existsSync(join(dir, file))) return { file, problem: "missing" };
      if (!statSync(join(dir, file)).isFile()) return { file, problem: "not a regular file" };
      const actual = await sha256File(join(dir, file));
      return actual === listed ? { file } : { file, problem: `sha256 ${actual}, listed ${listed}` };
    }),
  );
}

export interface GpgKey {
  /** Key id or fingerprint, as `gpg --local-user` takes it. */
  readonly keyId: string;
  /** GnuPG home holding its secret key; undefined: the user's. */
  readonly gnupgHome?: string;
}

const gpg = (key: GpgKey, args: string[]) =>
  execFileSync("gpg", ["--batch", "--yes", "--quiet", ...args], {
    env: key.gnupgHome ? { ...process.env, GNUPGHOME: key.gnupgHome } : process.env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });

/** A passphrase-less signing key in a new GnuPG home, for builds with no key configured. */
export function throwAwayGpgKey(label: string): GpgKey {
  const gnupgHome = mkdtempSync(join(tmpdir(), "ralph-release-gpg-"));
  const home = { keyId: "", gnupgHome };
  gpg(home, [
    "--passphrase",
    "",
    "--quick-generate-key",
    `ralph-release ${label} (throw-away)`,
    "ed25519",
    "sign",
    "1d",
  ]);
  return { keyId: fingerprintOf(home, ""), gnupgHome };
}

/** The armored secret key (gpgSigningKey) in a new GnuPG home of its own, for one signing. */
export function importedGpgKey(armoredSecretKey: string): GpgKey {
  const gnupgHome = mkdtempSync(join(tmpdir(), "ralph-release-gpg-"));
  const home = { keyId: "", gnupgHome };
  try {
    execFileSync("gpg", ["--batch", "--quiet", "--import"], {
      env: { ...process.env, GNUPGHOME: gnupgHome },
      input: armoredSecretKey,
      stdio: ["pipe", "ignore", "pipe"],
    });
  } catch (error) {
    rmSync(gnupgHome, { recursive: true, force: true });
    const said = ((error as { stderr?: Buffer }).stderr?.toString() ?? "").trim().split("\n").pop();
    throw new Error(`gpgSigningKey could not be imported (${said}): give an armored secret key without a passphrase`);
  }
  const keyId = fingerprintOf(home, "");
  return { keyId, gnupgHome };
}

/** The fingerprint of the (first) secret key `keyId` names in the key's GnuPG home. */
export function fingerprintOf(key: GpgKey, keyId = key.keyId): string {
  const listed = gpg(key, ["--with-colons", "--list-secret-keys", ...(keyId ? [keyId] : [])]);
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(listed)?.[1];
  if (!fingerprint) throw new Error(`gpg has no secret key ${keyId || "at all"}`);
  return fingerprint;
}

/** Signs SHA256SUMS (detached, armored) and writes the key's public half beside it. */
export function signChecksums(dir: string, key: GpgKey): { signature: string; publicKey: string } {
  const signature = join(dir, SUMS_SIGNATURE);
  gpg(key, ["--local-user", key.keyId, "--armor", "--output", signature, "--detach-sign", join(dir, SUMS)]);
  const publicKey = join(dir, SUMS_KEY);
  writeFileSync(publicKey, gpg(key, ["--armor", "--export", key.keyId]));
  return { signature, publicKey };
}

/**
 * Checks SHA256SUMS.asc against the armored public key in `publicKeyFile` (gpgv, as apt does);
 * returns the signer's fingerprint, throws with gpgv's words.
 */
export function verifyChecksumsSignature(dir: string, publicKeyFile: string): string {
  const work = mkdtempSync(join(tmpdir(), "ralph-release-gpgv-"));
  try {
    const keyring = join(work, "keyring.gpg");
    execFileSync("gpg", ["--batch", "--yes", "--output", keyring, "--dearmor", publicKeyFile], { stdio: "pipe" });
    const result = spawnSync(
      "gpgv",
      ["--status-fd", "1", "--keyring", keyring, join(dir, SUMS_SIGNATURE), join(dir, SUMS)],
      { encoding: "utf8" },
    );
    // VALIDSIG's last field is the primary key's fingerprint (the first is the signing subkey's).
    const valid = /^\[GNUPG:\] VALIDSIG ([0-9A-F]+)(?: \S+)* ([0-9A-F]{40,64})$/m.exec(result.stdout);
    if (result.status !== 0 || !valid) {
      const why = result.stderr.trim().split("\n").pop() ?? `gpgv exited with ${result.status}`;
      throw new Error(why);
    }
    return valid[2];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
