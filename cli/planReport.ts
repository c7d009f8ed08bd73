/**
 * The offline release plan, as text: what a stack would produce and in which order, from the
 * resources the program declared under mocks (cli/plan.ts). Pure.
 */
import type { PushRequest } from "../lib/images/publish";
import type { GithubReleaseRequest } from "../lib/github/releaseClient";
import type { AttestRequest } from "../lib/supply/attest";
import { stepRequestOf } from "./predictedOutputs";

export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parentUrn?: string;
  /** URNs this resource waits for (explicit dependsOn and inputs taken from others). */
  readonly dependencies: readonly string[];
  readonly retainOnDelete: boolean;
  readonly importId?: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

export interface Plan {
  readonly stack: string;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly resources: readonly PlannedResource[];
  /** Settings the plan filled in because they are not set here (credentials); `up` needs them. */
  readonly standIns: readonly string[];
}

export interface PlanStep {
  /** 1-based; steps with one number may run in parallel. */
  readonly step: number;
  readonly name: string;
  readonly kind: string;
  /** The steps it waits for directly (not through another step it waits for). */
  readonly after: readonly string[];
  readonly retained: boolean;
}

const isStep = (r: PlannedResource) => r.custom && !r.type.startsWith("pulumi:providers:");

/** Custom resources in dependency order, each with the level at which it can start. */
export function dependencyOrder(resources: readonly PlannedResource[]): PlanStep[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const children = new Map<string, PlannedResource[]>();
  for (const r of resources) if (r.parentUrn) children.set(r.parentUrn, [...(children.get(r.parentUrn) ?? []), r]);
  // Waiting for a component means waiting for every step inside it.
  const stepsOf = (urn: string): string[] => {
    const r = byUrn.get(urn);
    if (!r) return [];
    if (isStep(r)) return [urn];
    if (r.custom) return [];
    return (children.get(urn) ?? []).flatMap((child) => stepsOf(child.urn));
  };
  const direct = new Map<string, Set<string>>();
  for (const r of resources.filter(isStep)) {
    direct.set(r.urn, new Set(r.dependencies.flatMap(stepsOf).filter((urn) => urn !== r.urn)));
  }
  const closure = new Map<string, Set<string>>();
  const reach = (urn: string): Set<string> => {
    const known = closure.get(urn);
    if (known) return known;
    const all = new Set<string>();
    closure.set(urn, all);
    for (const dep of direct.get(urn) ?? []) {
      all.add(dep);
      for (const further of reach(dep)) all.add(further);
    }
    return all;
  };
  const level = new Map<string, number>();
  const levelOf = (urn: string): number => {
    const known = level.get(urn);
    if (known !== undefined) return known;
    const value = 1 + Math.max(0, ...[...(direct.get(urn) ?? [])].map(levelOf));
    level.set(urn, value);
    return value;
  };
  const steps = resources.filter(isStep).map((r) => {
    const deps = [...(direct.get(r.urn) ?? [])];
    const after = deps.filter((d) => !deps.some((other) => other !== d && reach(other).has(d)));
    return {
      step: levelOf(r.urn),
      name: r.name,
      // `pulumi-nodejs:dynamic/deb:Build` reads as deb:Build; other types by their last part.
      kind: /^pulumi-nodejs:dynamic\/(.+)$/.exec(r.type)?.[1] ?? r.type.split(":").pop() ?? r.type,
      after: after.map((urn) => byUrn.get(urn)?.name ?? urn).sort(),
      retained: r.retainOnDelete,
    };
  });
  // Stable order: by step, then name, whatever order the program happened to register in.
  return steps.sort((a, b) => a.step - b.step || a.name.localeCompare(b.name));
}

function outputString(plan: Plan, key: string): string {
  const value = plan.outputs[key];
  return typeof value === "string" ? value : "";
}

/** The request of a step that reads it from `variable`, with this machine's paths. */
function environmentOf(r: PlannedResource, variable: string): Record<string, unknown> | undefined {
  const step = stepRequestOf(r, true);
  return step?.variable === variable ? (step.request as Record<string, unknown>) : undefined;
}

/** The plan as a reader wants it: what comes out, where it goes, and in which order. */
export function renderPlan(plan: Plan, relative: (path: string) => string = (p) => p): string {
  const out: string[] = [];
  const line = (label: string, text: string) => out.push(`${label.padEnd(10)}${text}`);
  const more = (text: string) => out.push(`${" ".repeat(10)}${text}`);
  const retained = (r: PlannedResource) => (r.retainOnDelete ? ", retained on destroy" : "");
  const ofType = (type: string) => plan.resources.filter((r) => r.type === type);

  out.push(
    `ralph-release plan for stack '${plan.stack}': offline, the program ran with mock providers; ` +
      "nothing was built, pushed or published.",
    "",
  );
  const mode = outputString(plan, "mode");
  line(
    "version",
    `${outputString(plan, "version")} (${mode}; deb ${outputString(plan, "debianVersion")}) at commit ${outputString(plan, "commit")}`,
  );
  const build = plan.resources.map((r) => environmentOf(r, "RALPH_DEB_BUILD")).find((request) => request !== undefined);
  const debPath = outputString(plan, "debPath");
  line(
    "deb",
    `${debPath.split("/").pop()} for ${build?.distribution ?? "?"}, built ${build?.builderImage ? "in the builder container" : "on this machine"}, verified, into ${relative(debPath.slice(0, debPath.lastIndexOf("/") + 1))}`,
  );
  line("target", outputString(plan, "target"));
  const tags = (plan.outputs.imageTags as string[] | undefined) ?? [];
  const repositories = (plan.outputs.imageRepositories as Record<string, string> | undefined) ?? {};
  if (Object.keys(repositories).length === 0) line("images", "none (images is off: a deb-only stack)");
  else line("images", Object.keys(repositories).join(", ") + `, tagged ${tags.join(", ")}, smoke-tested`);
  for (const notice of (plan.outputs.notices as string[] | undefined) ?? []) line("note", notice);
  const checked = [
    ["RALPH_DEB_CHECK", "the deb targets"],
    ["RALPH_IMAGE_CHECK", "the registry"],
  ].flatMap(([variable, what]) => (plan.resources.some((r) => environmentOf(r, variable)) ? [what] : []));
  if (checked.length > 0) {
    line("check", `first, ${checked.join(" and ")}: this version unpublished or this stack's own, else refused`);
  }

  const publishes: string[] = [];
  // Said on every snapshot destination: a reader checks that none is where release users install from.
  const apart = plan.outputs.mode === "snapshot" ? " (snapshots only)" : "";
  for (const r of ofType("pulumi-nodejs:dynamic/packagecloud:PackagecloudPackage")) {
    const { url, repository, distro, release } = r.inputs as Record<string, string>;
    publishes.push(`deb to packagecloud ${url}/${repository}/${distro}/${release}${apart}${retained(r)}`);
  }
  for (const r of plan.resources) {
    const aptly = environmentOf(r, "RALPH_APTLY_PUBLISH");
    if (!aptly) continue;
    const parent = plan.resources.find((p) => p.urn === r.parentUrn);
    const signed = aptly.gpgKey ? `signed by ${aptly.gpgKey}` : "unsigned";
    publishes.push(
      `deb to aptly ${relative(`${aptly.rootDir}`)}/public/${aptly.prefix} (${aptly.release}, ${signed}${apart ? ", snapshots only" : ""})${parent ? retained(parent) : ""}`,
    );
  }
  for (const r of plan.resources) {
    const wait = environmentOf(r, "RALPH_APT_WAIT");
    if (wait) publishes.push(`then wait up to ${Number(wait.deadlineMs) / 1000} s until ${wait.baseUrl} lists it`);
  }
  const pushes = plan.resources
    .map((r) => environmentOf(r, "RALPH_IMAGE_PUSH") as PushRequest | undefined)
    .filter((push): push is PushRequest => push !== undefined)
    .sort((a, b) => a.repository.localeCompare(b.repository));
  for (const push of pushes) {
    for (const tag of push.tags) {
      const once = push.versionTag?.tag === tag ? ", written once (never replaced)" : "";
      publishes.push(`image ${push.repository}:${tag}${once}`);
    }
  }
  if (pushes.length === 0 && Object.keys(repositories).length > 0) {
    publishes.push(`images stay local (publishImages is off)`);
  }
  publishes.forEach((text, i) => (i === 0 ? line("publish", text) : more(text)));
  const attest = plan.resources
    .map((r) => environmentOf(r, "RALPH_SUPPLY_ATTEST") as AttestRequest | undefined)
    .find((a) => a !== undefined);
  if (attest) {
    const attached = pushes.length > 0 ? ", each image's attached to it in the registry" : "";
    const { bundles, checksums } = attest.signing ?? { bundles: "throw-away", checksums: "throw-away" };
    const unset = (key: string) => (plan.standIns.includes(key) ? " (not set here)" : "");
    const bundleSigner = {
      keyless: "keyless, with the publish workflow's identity",
      key: plan.standIns.includes("signingKey")
        ? "keyless in the publish workflow (its identity), else with signingKey (not set here)"
        : "with signingKey",
      "throw-away": "with a throw-away key (a snapshot's: it shows the files intact, not who made them)",
    }[bundles];
    const sumsSigner = {
      key: `gpgSigningKey${unset("gpgSigningKey")}`,
      keyring: `GPG key ${attest.gpgKey} (aptlyGpgKey)`,
      "throw-away": "a throw-away key (a snapshot's)",
    }[checksums];
    line("attest", `SBOMs, SLSA provenance, Sigstore bundles signed ${bundleSigner}${attached}`);
    more(
      `SHA256SUMS over all of it, signed by ${sumsSigner}; checked by npm run verify -- ${outputString(plan, "version")} --gpg-key <its public key>`,
    );
  }

  const releases = plan.resources
    .map((r) => environmentOf(r, "RALPH_GITHUB_RELEASE") as GithubReleaseRequest | undefined)
    .filter((release): release is GithubReleaseRequest => release !== undefined);
  const environments = ofType("github:index/repositoryEnvironment:RepositoryEnvironment");
  if (releases.length === 0 && environments.length === 0) line("github", "nothing (githubRelease off)");
  const owner = plan.resources.find((r) => r.type === "pulumi:providers:github")?.inputs.owner;
  const inRepository = (r: PlannedResource) => (owner ? `${owner}/${r.inputs.repository}` : `${r.inputs.repository}`);
  for (const release of releases) {
    const adopt = release.releaseId ? `adopting release ${release.releaseId}` : "the one there adopted, else drafted";
    line(
      "github",
      `release of tag ${release.tag} in ${release.repository} (${adopt}): ${release.files.length} assets uploaded once, published last; never deleted`,
    );
  }
  for (const r of environments) {
    const stored = plan.resources
      .filter((s) => s.parentUrn === r.parentUrn && (s.inputs.secretName || s.inputs.variableName))
      .map((s) => `${s.inputs.secretName ?? s.inputs.variableName}`)
      .sort();
    const text = `environment '${r.inputs.environment}' in ${inRepository(r)} for the publish workflow: ${stored.join(", ")}`;
    if (releases.length === 0 && r === environments[0]) line("github", text);
    else more(text);
  }
  if (plan.standIns.length > 0) {
    line("not set", `${plan.standIns.join(", ")}: filled in for this plan; \`up\` needs them`);
  }

  out.push("", "order (a step starts once the steps it names are done; equal numbers may run in parallel):");
  const steps = dependencyOrder(plan.resources);
  const width = Math.max(...steps.map((s) => s.name.length));
  for (const s of steps) {
    const after = s.after.length > 0 ? ` after ${s.after.join(", ")}` : "";
    out.push(
      `  ${String(s.step).padStart(2)}. ${s.name.padEnd(width)}  ${s.kind}${after}${s.retained ? " [retained]" : ""}`,
    );
  }
  return `${out.join("\n")}\n`;
}
