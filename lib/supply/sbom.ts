/**
 * CycloneDX SBOMs of what the pipeline ships, made with CycloneDX's own library, and read back for
 * `verify`. No Pulumi.
 */
import * as CDX from "@cyclonedx/cyclonedx-library";
import type { DebContents, DebianDependency, PythonDistribution } from "./debContents";

export const SBOM_SPEC = CDX.Spec.Spec1dot6;

/** An installed Debian package (an image's dpkg database). */
export interface InstalledDebianPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
}

export interface SbomSubject {
  readonly type: "deb" | "image";
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  /** The deb's sha256, or the image's manifest digest without `sha256:`. */
  readonly sha256: string;
}

export interface SbomContents {
  readonly subject: SbomSubject;
  /** A deb's `Depends:` clauses. */
  readonly depends?: readonly DebianDependency[];
  /** An image's installed Debian packages. */
  readonly installed?: readonly InstalledDebianPackage[];
  readonly python: readonly PythonDistribution[];
}

/** `pkg:pypi/<name>@<version>` with the name normalised as PEP 503 says. */
export const pypiPurl = (name: string, version: string) =>
  `pkg:pypi/${name.toLowerCase().replace(/[-_.]+/g, "-")}@${encodeURIComponent(version)}`;

export const debPurl = (distro: string, name: string, version?: string, architecture?: string) =>
  `pkg:deb/${distro}/${name}${version ? `@${encodeURIComponent(version)}` : ""}${architecture ? `?arch=${architecture}` : ""}`;

const SHA256 = CDX.Enums.HashAlgorithm["SHA-256"];
const PROPERTY_PREFIX = "ralph-release";

function pythonComponent(dist: PythonDistribution): CDX.Models.Component {
  const component = new CDX.Models.Component(CDX.Enums.ComponentType.Library, dist.name, {
    version: dist.version,
    purl: pypiPurl(dist.name, dist.version),
    bomRef: `${pypiPurl(dist.name, dist.version)}#${dist.sitePackages}`,
  });
  if (dist.license) component.licenses.add(new CDX.Models.NamedLicense(dist.license));
  component.properties.add(new CDX.Models.Property(`${PROPERTY_PREFIX}:site-packages`, dist.sitePackages));
  for (const file of dist.files) {
    const fileComponent = new CDX.Models.Component(CDX.Enums.ComponentType.File, file.path);
    fileComponent.hashes.set(SHA256, file.sha256);
    component.components.add(fileComponent);
  }
  return component;
}

/** The SBOM as CycloneDX 1.6 JSON (deterministic: no timestamp, no random serial number). */
export function renderSbom(contents: SbomContents, distro: string): string {
  const { subject } = contents;
  const bom = new CDX.Models.Bom();
  const main = new CDX.Models.Component(
    subject.type === "deb" ? CDX.Enums.ComponentType.Application : CDX.Enums.ComponentType.Container,
    subject.name,
    { version: subject.version, purl: subject.purl, bomRef: subject.purl },
  );
  main.hashes.set(SHA256, subject.sha256);
  bom.metadata.component = main;
  bom.metadata.tools.components.add(
    new CDX.Models.Component(CDX.Enums.ComponentType.Application, "ralph-release", { group: "allegro" }),
  );
  for (const dependency of contents.depends ?? []) {
    const component = new CDX.Models.Component(CDX.Enums.ComponentType.Library, dependency.name, {
      purl: debPurl(distro, dependency.name),
      bomRef: `depends:${dependency.clause}`,
    });
    component.properties.add(new CDX.Models.Property(`${PROPERTY_PREFIX}:depends`, dependency.clause));
    bom.components.add(component);
  }
  for (const pkg of contents.installed ?? []) {
    const purl = debPurl(distro, pkg.name, pkg.version, pkg.architecture);
    bom.components.add(
      new CDX.Models.Component(CDX.Enums.ComponentType.Library, pkg.name, { version: pkg.version, purl, bomRef: purl }),
    );
  }
  for (const dist of contents.python) bom.components.add(pythonComponent(dist));
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(SBOM_SPEC));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

export function debSbomContents(contents: DebContents, sha256: string, distro: string): SbomContents {
  return {
    subject: {
      type: "deb",
      name: contents.packageName,
      version: contents.version,
      purl: debPurl(distro, contents.packageName, contents.version, contents.architecture),
      sha256,
    },
    depends: contents.depends,
    python: contents.python,
  };
}

interface JsonComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
  components?: JsonComponent[];
  licenses?: { license?: { name?: string } }[];
}

const property = (component: JsonComponent, name: string) =>
  component.properties?.find((p) => p.name === `${PROPERTY_PREFIX}:${name}`)?.value;
const sha256Of = (component: JsonComponent) => component.hashes?.find((h) => h.alg === "SHA-256")?.content ?? "";

/** Reads an SBOM this module wrote back into what it states; throws on JSON that is not one. */
export function parseSbom(text: string): SbomContents {
  const json = JSON.parse(text) as { bomFormat?: string; metadata?: { component?: JsonComponent } };
  const main = json.metadata?.component;
  if (json.bomFormat !== "CycloneDX" || !main) throw new Error("not a CycloneDX SBOM with a metadata component");
  const components = (json as { components?: JsonComponent[] }).components ?? [];
  const isPython = (c: JsonComponent) => c.purl?.startsWith("pkg:pypi/") ?? false;
  return {
    subject: {
      type: main.type === "container" ? "image" : "deb",
      name: main.name,
      version: main.version ?? "",
      purl: main.purl ?? "",
      sha256: sha256Of(main),
    },
    depends: components.flatMap((c) => {
      const clause = property(c, "depends");
      return clause ? [{ name: c.name, clause }] : [];
    }),
    installed: components
      .filter((c) => c.purl?.startsWith("pkg:deb/") && !property(c, "depends"))
      .map((c) => ({ name: c.name, version: c.version ?? "", architecture: /arch=([^&]+)/.exec(c.purl!)?.[1] ?? "" })),
    python: components.filter(isPython).map((c) => ({
      name: c.name,
      version: c.version ?? "",
      license: c.licenses?.[0]?.license?.name,
      sitePackages: property(c, "site-packages") ?? "",
      files: (c.components ?? []).map((f) => ({ path: f.name, sha256: sha256Of(f) })),
    })),
  };
}

const key = (d: { name: string; version: string }) => `${d.name} ${d.version}`;

/**
 * Where `stated` (an SBOM) and `actual` (what the artifact holds) differ, in words: the first
 * difference of each kind; empty when the SBOM is true to the artifact.
 */
export function sbomDifferences(stated: SbomContents, actual: SbomContents): string[] {
  const problems: string[] = [];
  if (stated.subject.sha256 !== actual.subject.sha256)
    problems.push(`it describes sha256 ${stated.subject.sha256 || "(none)"}, the artifact is ${actual.subject.sha256}`);
  const statedDists = new Map(stated.python.map((d) => [`${d.sitePackages} ${key(d)}`, d]));
  const actualDists = new Map(actual.python.map((d) => [`${d.sitePackages} ${key(d)}`, d]));
  const missing = [...actualDists.values()].filter((d) => !statedDists.has(`${d.sitePackages} ${key(d)}`));
  const extra = [...statedDists.values()].filter((d) => !actualDists.has(`${d.sitePackages} ${key(d)}`));
  if (missing.length > 0) problems.push(`not listed but inside: ${missing.map(key).join(", ")}`);
  if (extra.length > 0) problems.push(`listed but not inside: ${extra.map(key).join(", ")}`);
  for (const [id, dist] of actualDists) {
    const listed = statedDists.get(id);
    if (!listed) continue;
    const hashes = new Map(listed.files.map((f) => [f.path, f.sha256]));
    const changed = dist.files.find((f) => hashes.get(f.path) !== f.sha256);
    if (changed || hashes.size !== dist.files.length) {
      problems.push(`${key(dist)}: ${changed ? `${changed.path} has another hash` : "another file list"}`);
      break;
    }
  }
  const clauses = (c: SbomContents) =>
    (c.depends ?? [])
      .map((d) => d.clause)
      .sort()
      .join(", ");
  if (clauses(stated) !== clauses(actual))
    problems.push(`Depends differ: "${clauses(stated)}" vs "${clauses(actual)}"`);
  const installed = (c: SbomContents) =>
    (c.installed ?? [])
      .map((p) => `${p.name}=${p.version}`)
      .sort()
      .join(" ");
  if (installed(stated) !== installed(actual)) problems.push("the installed Debian packages differ");
  return problems;
}
