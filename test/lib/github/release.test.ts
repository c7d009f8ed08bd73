import { afterAll, describe, expect, it } from "vitest";
import { changesSince } from "../../../lib/version/changelog";
import { renderReleaseNotes } from "../../../lib/github/release";
import { GitRepo, removeTempDirs } from "../../support/gitRepo";

afterAll(removeTempDirs);

describe("renderReleaseNotes", () => {
  it("lists the commits since the previous release tag, then each artifact by checksum or digest", () => {
    const repo = GitRepo.init();
    repo.commit("initial");
    repo.tag("20241120.1");
    repo.commit("Fix  asset\timport");
    repo.commit("Add DC view");
    repo.tag("20241121.1");
    const notes = renderReleaseNotes({
      version: "20241121.1",
      changes: changesSince(repo.dir, repo.git("rev-parse", "HEAD")),
      distribution: "ubuntu/jammy",
      debFileName: "ralph-core_20241121.1_amd64.deb",
      debSha256: "ab".repeat(32),
      debLocations: ["https://packagecloud.io/allegro/ralph"],
      imageRefs: { inkpy: `docker.io/allegro/inkpy@sha256:${"12".repeat(32)}` },
      imageTags: ["20241121.1", "latest"],
    });
    expect(notes).toBe(
      [
        "Ralph 20241121.1",
        "",
        "Changes since 20241120.1:",
        "- Add DC view",
        "- Fix asset import",
        "",
        "Artifacts:",
        `- \`ralph-core_20241121.1_amd64.deb\` for ubuntu/jammy (https://packagecloud.io/allegro/ralph), sha256 \`${"ab".repeat(32)}\``,
        `- inkpy: \`docker.io/allegro/inkpy:20241121.1\`, \`docker.io/allegro/inkpy:latest\` — \`docker.io/allegro/inkpy@sha256:${"12".repeat(32)}\``,
        "",
      ].join("\n"),
    );
  });

  it("names who signed the supply chain and gives the check with those anchors", () => {
    const notes = renderReleaseNotes({
      version: "20241121.1",
      changes: { subjects: ["Add DC view"] },
      distribution: "ubuntu/jammy",
      debFileName: "ralph-core_20241121.1_amd64.deb",
      debSha256: "ab".repeat(32),
      debLocations: [],
      imageRefs: {},
      imageTags: ["20241121.1"],
      supplyChainFiles: ["provenance.intoto.json", "provenance.sigstore.json", "SHA256SUMS", "SHA256SUMS.asc"],
      signing: {
        checksumsFingerprint: "0123456789ABCDEF0123456789ABCDEF01234567",
        sigstoreSigning: "keyless",
        sigstoreSigner: "https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/20241121.1",
      },
      repository: "allegro/ralph",
    });
    expect(notes).toContain(
      "- `SHA256SUMS`, signed in `SHA256SUMS.asc` by GPG key `0123456789ABCDEF0123456789ABCDEF01234567`",
    );
    expect(notes).toContain(
      "signed keyless, by `https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/20241121.1`",
    );
    expect(notes).toContain(
      "`npm run verify -- 20241121.1 --github allegro/ralph --gpg-key <the release key, fingerprint 0123456789ABCDEF0123456789ABCDEF01234567> --identity https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/20241121.1 --trusted-root trusted_root.json`",
    );
    expect(notes).not.toContain("throw-away");
  });
});
