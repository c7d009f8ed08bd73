/**
 * What a .deb holds, read from the file itself: its control fields, its Debian dependencies and the
 * Python distributions of its virtualenv with the file hashes pip recorded. The SBOM is written from
 * this and `verify` re-reads it to compare. No Pulumi.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

export interface DebianDependency {
  readonly name: string;
  /** The whole clause as the control file states it, e.g. `python3 (>= 3.11)` or `a | b`. */
  readonly clause: string;
}

export interface RecordedFile {
  /** As RECORD lists it, relative to site-packages. */
  readonly path: string;
  readonly sha256: string;
}

export interface PythonDistribution {
  readonly name: string;
  readonly version: string;
  /** `License-Expression`, else `License`, else the classifiers' names; undefined when none. */
  readonly license?: string;
  /** Where its dist-info is inside the package, e.g. `opt/ralph/ralph-core/lib/python3.11/site-packages`. */
  readonly sitePackages: string;
  readonly files: readonly RecordedFile[];
}

export interface DebContents {
  readonly packageName: string;
  readonly version: string;
  readonly architecture: string;
  readonly depends: readonly DebianDependency[];
  readonly python: readonly PythonDistribution[];
}

/** RECORD's `sha256=<urlsafe base64, unpadded>` as hex. */
export function recordHashToHex(field: string): string | undefined {
  const match = /^sha256=([A-Za-z0-9_-]+)$/.exec(field);
  return match ? Buffer.from(match[1], "base64url").toString("hex") : undefined;
}

/** `Depends:` split into clauses; each named by its first alternative's package. */
export function parseDepends(depends: string | undefined): DebianDependency[] {
  if (!depends?.trim()) return [];
  return depends.split(",").map((raw) => {
    const clause = raw.trim().replace(/\s+/g, " ");
    return { name: clause.split(/[\s(|:]/)[0], clause };
  });
}

/** The header fields of a METADATA (RFC 822) file; repeated fields are joined with `\n`. */
function metadataFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    const match = /^([A-Za-z-]+):\s?(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1].toLowerCase();
    fields.set(key, fields.has(key) ? `${fields.get(key)}\n${match[2]}` : match[2]);
  }
  return fields;
}

function licenseOf(fields: Map<string, string>): string | undefined {
  const expression = fields.get("license-expression")?.trim();
  if (expression) return expression;
  const license = fields.get("license")?.trim();
  if (license && license.toUpperCase() !== "UNKNOWN" && !license.includes("\n")) return license;
  const classifiers = (fields.get("classifier") ?? "")
    .split("\n")
    .filter((c) => c.startsWith("License ::"))
    .map((c) => c.split("::").pop()!.trim());
  return classifiers.length > 0 ? classifiers.join(" AND ") : undefined;
}

function readDistribution(root: string, sitePackages: string, distInfo: string): PythonDistribution {
  const dir = join(root, sitePackages, distInfo);
  const fields = metadataFields(readFileSync(join(dir, "METADATA"), "utf8"));
  const record = existsSync(join(dir, "RECORD")) ? readFileSync(join(dir, "RECORD"), "utf8") : "";
  const files = record
    .split("\n")
    .map((line) => line.split(","))
    .flatMap(([path, hash]) => {
      const sha256 = hash ? recordHashToHex(hash) : undefined;
      return path && sha256 ? [{ path, sha256 }] : [];
    })
    .sort((a, b) => a.path.localeCompare(b.path));
  return {
    name: fields.get("name") ?? distInfo.replace(/-[^-]+\.dist-info$/, ""),
    version: fields.get("version") ?? "",
    license: licenseOf(fields),
    sitePackages,
    files,
  };
}

/** Every `site-packages` directory under `root`, relative to it. */
function sitePackagesDirs(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    // Not through symlinks: a venv's lib64 is its lib again.
    if (!lstatSync(path).isDirectory()) return [];
    return entry === "site-packages" ? [relative(root, path)] : sitePackagesDirs(root, path);
  });
}

/** Every Python distribution installed under `root` (a file system tree), sorted by name. */
export function readPythonDistributions(root: string): PythonDistribution[] {
  return sitePackagesDirs(root)
    .flatMap((sitePackages) =>
      readdirSync(join(root, sitePackages))
        .filter((entry) => entry.endsWith(".dist-info") && existsSync(join(root, sitePackages, entry, "METADATA")))
        .map((distInfo) => readDistribution(root, sitePackages, distInfo)),
    )
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** Reads the .deb at `debPath` (dpkg-deb); throws when it is not a readable package. */
export function readDebContents(debPath: string): DebContents {
  const field = (name: string) =>
    execFileSync("dpkg-deb", ["--field", debPath, name], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
      .replace(/\n\s*/g, " ")
      .trim();
  const root = mkdtempSync(join(tmpdir(), "ralph-release-deb-"));
  try {
    execFileSync("dpkg-deb", ["--extract", debPath, root], { stdio: ["ignore", "ignore", "pipe"] });
    const python = readPythonDistributions(root);
    return {
      packageName: field("Package"),
      version: field("Version"),
      architecture: field("Architecture"),
      depends: parseDepends(field("Depends")),
      python,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
