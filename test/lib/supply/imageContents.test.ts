import { beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDpkgStatus, readImageContents } from "../../../lib/supply/imageContents";
import { BASE_IMAGE, docker, useContainerEngine } from "../../support/containers";
import { tempDir } from "../../support/gitRepo";

describe("an image's contents, read from a stopped container", () => {
  beforeAll(useContainerEngine);

  it("lists the Debian packages dpkg has installed, not those only configured or removed", () => {
    const status = [
      "Package: adduser\nStatus: install ok installed\nVersion: 3.134\nArchitecture: all",
      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\nArchitecture: amd64",
      "Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u15\nArchitecture: amd64\nDescription: x\n more",
    ].join("\n\n");
    expect(parseDpkgStatus(status)).toEqual([
      { name: "adduser", version: "3.134", architecture: "all" },
      { name: "base-files", version: "12.4+deb12u15", architecture: "amd64" },
    ]);
  });

  it("reads the base image's dpkg database and a venv copied out of it; an image without dpkg has no packages", async () => {
    const context = tempDir("ralph-release-image-");
    const site = "opt/ralph/ralph-core/lib/python3.11/site-packages/demo-1.0.dist-info";
    writeFileSync(join(context, "METADATA"), "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n");
    writeFileSync(join(context, "Dockerfile"), `FROM ${BASE_IMAGE}\nCOPY METADATA /${site}/METADATA\n`);
    await docker("build", "--quiet", "--tag", "localhost/ralph-release-test/with-venv", context);
    const contents = await readImageContents("localhost/ralph-release-test/with-venv", ["/opt/ralph"]);
    expect(contents.installed.map((p) => p.name)).toEqual(expect.arrayContaining(["base-files", "dpkg"]));
    expect(contents.python.map((d) => `${d.name} ${d.version} ${d.sitePackages}`)).toEqual([
      "demo 1.0 opt/ralph/ralph-core/lib/python3.11/site-packages",
    ]);

    writeFileSync(join(context, "Dockerfile"), "FROM scratch\nCOPY METADATA /METADATA\n");
    await docker("build", "--quiet", "--tag", "localhost/ralph-release-test/no-dpkg", context);
    expect(await readImageContents("localhost/ralph-release-test/no-dpkg")).toEqual({ installed: [], python: [] });
  });
});
