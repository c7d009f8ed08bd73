import { describe, expect, it } from "vitest";
import { type AssetSums, planAssets, withArtifactSection } from "../../../lib/github/assets";

const DEB = "ralph-core_20241124.1_amd64.deb";
const sha = (c: string) => c.repeat(64);
/** This run's files: the deb, and attestations made by this run. */
const local = { [DEB]: sha("d"), "provenance.intoto.json": sha("2"), "provenance.sigstore.json": sha("3") };
const plan = (sums: Partial<AssetSums>) =>
  planAssets({ onRelease: {}, local, draft: false, ours: true, deb: DEB, ...sums });
const actions = (sums: Partial<AssetSums>) =>
  Object.fromEntries(plan(sums).actions.map((step) => [step.name, step.action]));

describe("planAssets", () => {
  it("the state lost after publishing: the release with this very deb keeps its attestations; one missing is refused, not mixed in", () => {
    const published = { [DEB]: sha("d"), "provenance.intoto.json": sha("a"), "provenance.sigstore.json": sha("b") };
    expect(actions({ onRelease: published })).toEqual({
      [DEB]: "keep",
      "provenance.intoto.json": "keep",
      "provenance.sigstore.json": "keep",
    });
    // A file gone from a set this pipeline did not write into (no section of its own) is not made up from another set.
    const { "provenance.sigstore.json": _gone, ...partial } = published;
    expect(plan({ onRelease: partial, ours: false }).refusals).toEqual([
      `provenance.sigstore.json is missing from the published release, and this run's copy (333333333333…) belongs to another set of attestations than the one published: it would not match the rest.`,
    ]);
  });

  it("another deb on the published release: it and every differing file refused, nothing uploaded", () => {
    const other = { [DEB]: sha("e"), "provenance.intoto.json": sha("a") };
    const result = plan({ onRelease: other, ours: false });
    // Even on a release this pipeline was filling (its section there), a visible deb stays.
    expect(plan({ onRelease: other, ours: true }).refusals).toEqual([
      `${DEB} on the release is sha256 eeeeeeeeeeee…, this build's is dddddddddddd… and this stack never uploaded it.`,
    ]);
    expect(result.refusals).toEqual([
      `provenance.intoto.json on the release is sha256 aaaaaaaaaaaa…, this build's is 222222222222… and this stack never uploaded it.`,
      `${DEB} on the release is sha256 eeeeeeeeeeee…, this build's is dddddddddddd… and this stack never uploaded it.`,
    ]);
  });

  it("a draft: an earlier run's uploads are replaced (its section is there, or the record says so); a maintainer's asset of that name is refused", () => {
    const onRelease = { "provenance.intoto.json": sha("a") };
    expect(actions({ onRelease, draft: true, ours: true })["provenance.intoto.json"]).toBe("replace");
    expect(actions({ onRelease, draft: true, ours: false, recorded: onRelease })["provenance.intoto.json"]).toBe(
      "replace",
    );
    expect(plan({ onRelease, draft: true, ours: false }).refusals).toHaveLength(1);
    expect(actions({ onRelease, draft: true, ours: true })[DEB]).toBe("upload");
  });

  it("this stack's record and GitHub disagree: the asset was replaced on GitHub, refused even with the same deb", () => {
    const recorded = { ...local, "provenance.intoto.json": sha("a") };
    const replaced = { ...recorded, "provenance.intoto.json": sha("f") };
    expect(plan({ onRelease: replaced, recorded }).refusals).toEqual([
      "provenance.intoto.json on the release is sha256 ffffffffffff…, this build's is 222222222222…; this stack uploaded aaaaaaaaaaaa…, so it was replaced on GitHub.",
    ]);
  });
});

describe("planAssets on a published release this pipeline adopted and did not finish", () => {
  it("a fresh runner's re-run replaces the earlier run's attestations, keeps the deb, uploads the rest, SHA256SUMS and its signature last", () => {
    const halfway = { [DEB]: sha("d"), "provenance.intoto.json": sha("a") };
    const result = plan({
      onRelease: halfway,
      ours: true,
      local: { ...local, SHA256SUMS: sha("4"), "SHA256SUMS.asc": sha("5") },
    });
    expect(result.refusals).toEqual([]);
    expect(result.actions.map((step) => `${step.action} ${step.name}`)).toEqual([
      "replace provenance.intoto.json",
      "upload provenance.sigstore.json",
      `keep ${DEB}`,
      "upload SHA256SUMS",
      "upload SHA256SUMS.asc",
    ]);
  });
});

describe("withArtifactSection", () => {
  it("keeps a maintainer's text, adds this pipeline's section once, and replaces it on the next run", () => {
    const first = withArtifactSection("Highlights.", "Artifacts v1");
    expect(first).toBe(
      "Highlights.\n\n<!-- ralph-release:artifacts -->\nArtifacts v1\n<!-- /ralph-release:artifacts -->",
    );
    expect(withArtifactSection(`${first}\n\nAdded later by hand.`, "Artifacts v2")).toBe(
      "Highlights.\n\n<!-- ralph-release:artifacts -->\nArtifacts v2\n<!-- /ralph-release:artifacts -->\n\nAdded later by hand.",
    );
    expect(withArtifactSection(null, "Artifacts")).toBe(
      "<!-- ralph-release:artifacts -->\nArtifacts\n<!-- /ralph-release:artifacts -->",
    );
  });
});
