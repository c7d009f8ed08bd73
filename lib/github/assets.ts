/**
 * What a release's assets need, decided from three sums per name: what GitHub holds, what this run
 * has, and what this stack recorded when it last published. Pure.
 *
 * A published asset never changes. A draft's asset an earlier run uploaded (the record says so, or
 * the draft carries this pipeline's section) may be replaced: nobody outside could download it. On a
 * published release whose deb is this build's (and whose assets match this stack's record, when it
 * has one), files made again on another runner or after the state was lost (new timestamps, new
 * signatures over the same deb and images) leave the published set alone: it is whole, and was
 * checked when it was made.
 */

export interface AssetSums {
  /** name → sha256, as GitHub reports it (the asset's `digest`). */
  readonly onRelease: Readonly<Record<string, string>>;
  /** name → sha256 of this run's file. */
  readonly local: Readonly<Record<string, string>>;
  /** name → sha256 this stack recorded after its last run; undefined with no record (a first run). */
  readonly recorded?: Readonly<Record<string, string>>;
  /** Whether the release is still a draft (nothing of it public yet). */
  readonly draft: boolean;
  /**
   * Whether the release's text carries this pipeline's section: it drafted it (or adopted it before),
   * so its assets of these names are an earlier run's, one that died before recording them.
   */
  readonly ours: boolean;
  /** The deb: never kept from an earlier build, never replaced on a published release. */
  readonly deb: string;
}

export type AssetAction =
  | { readonly name: string; readonly action: "keep"; readonly why: string }
  | { readonly name: string; readonly action: "upload" }
  | { readonly name: string; readonly action: "replace"; readonly why: string };

export interface AssetPlan {
  readonly actions: readonly AssetAction[];
  /** Why the release cannot be completed, one line per asset; nothing is written when any. */
  readonly refusals: readonly string[];
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;

export function planAssets(sums: AssetSums): AssetPlan {
  const actions: AssetAction[] = [];
  const refusals: string[] = [];
  const names = Object.keys(sums.local).sort(signedSumsLast);
  // A release this pipeline is still filling (a draft, or a published release it adopted and has not
  // completed once): an earlier run's uploads may be replaced, so a re-run always finishes it.
  const incomplete = names.some((name) => sums.onRelease[name] === undefined);
  const staging = sums.draft || (incomplete && sums.ours && sums.recorded === undefined);
  // A published release whose deb is this build's holds this build's supply chain, made by an earlier
  // run: this stack's record says so, or, with the record lost, the deb's sha256 does.
  const sameDeb = sums.onRelease[sums.deb] !== undefined && sums.onRelease[sums.deb] === sums.local[sums.deb];
  const publishedByUs = (name: string) =>
    !staging &&
    name !== sums.deb &&
    sums.onRelease[name] !== undefined &&
    (sums.recorded === undefined ? sameDeb : sums.recorded[name] === sums.onRelease[name]);
  // Files made again while the published set is kept must not be mixed into it.
  const keepsPublishedSet = names.some((name) => publishedByUs(name) && sums.onRelease[name] !== sums.local[name]);
  for (const name of names) {
    const there = sums.onRelease[name];
    const mine = sums.local[name];
    const recorded = sums.recorded?.[name];
    if (there === mine) {
      actions.push({ name, action: "keep", why: "already there, same sha256" });
      continue;
    }
    if (there === undefined) {
      if (keepsPublishedSet && recorded !== mine)
        refusals.push(
          `${name} is missing from the published release, and this run's copy (${short(mine)}) belongs to ` +
            "another set of attestations than the one published: it would not match the rest.",
        );
      else actions.push({ name, action: "upload" });
      continue;
    }
    // The deb of a release anyone can see is never replaced, whoever put it there.
    const replaceable = staging && (sums.draft || name !== sums.deb);
    if (replaceable && (recorded === there || (recorded === undefined && sums.ours))) {
      actions.push({ name, action: "replace", why: "an earlier run's upload, the release not yet complete" });
      continue;
    }
    if (publishedByUs(name)) {
      const why =
        recorded === undefined
          ? "published with this very deb; this run made the file again"
          : "published by this stack; this run made the file again";
      actions.push({ name, action: "keep", why });
      continue;
    }
    refusals.push(
      `${name} on the release is sha256 ${short(there)}, this build's is ${short(mine)}` +
        (recorded === undefined
          ? " and this stack never uploaded it"
          : recorded === there
            ? " (another build of the deb)"
            : `; this stack uploaded ${short(recorded)}, so it was replaced on GitHub`) +
        ".",
    );
  }
  return { actions, refusals };
}

/** SHA256SUMS and its signature go up last: until they are there, verify fails instead of passing a half set. */
function signedSumsLast(a: string, b: string): number {
  const rank = (name: string) => (name === "SHA256SUMS.asc" ? 2 : name.startsWith("SHA256SUMS") ? 1 : 0);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Markers around the section this pipeline writes into a release's text: a maintainer's text stays. */
const SECTION_START = "<!-- ralph-release:artifacts -->";
const SECTION_END = "<!-- /ralph-release:artifacts -->";

/** The release text with this run's artifact section in place of any earlier one, after the maintainer's text. */
export function withArtifactSection(body: string | null | undefined, section: string): string {
  const text = body ?? "";
  const block = `${SECTION_START}\n${section.trimEnd()}\n${SECTION_END}`;
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  if (start >= 0 && end > start) return `${text.slice(0, start)}${block}${text.slice(end + SECTION_END.length)}`;
  return text.trim() === "" ? block : `${text.trimEnd()}\n\n${block}`;
}

/** Whether this pipeline has written into the release's text (it drafted it, or adopted it before). */
export const hasArtifactSection = (body: string | null | undefined) => (body ?? "").includes(SECTION_START);
