import { afterAll, describe, expect, it } from "vitest";
import { changesSince } from "../../../lib/version/changelog";
import { releaseImportId, renderReleaseNotes } from "../../../lib/github/release";
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

  it("import ids name the repository without its owner, as pulumi-github expects", () => {
    expect(releaseImportId("allegro/ralph", "42")).toBe("ralph:42");
  });
});
