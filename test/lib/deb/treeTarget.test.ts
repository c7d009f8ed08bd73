import { afterAll, describe, expect, it } from "vitest";
import { readPackagingFiles, treeTarget } from "../../../lib/deb/treeTarget";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { LATER_RALPH_PACKAGING, treeWithPackaging } from "../../support/packaging";
import { BUNDLE_RELEASE, cloneRalph } from "../../support/ralphBundle";

afterAll(removeTempDirs);

describe("what a checkout says it targets", () => {
  it(`Ralph's real ${BUNDLE_RELEASE} and an older release: bionic, Python 3.6, pip 19.3.1 once pinned, the archive's Node`, () => {
    const ralph = cloneRalph();
    ralph.checkout("--detach", BUNDLE_RELEASE);
    expect(treeTarget(readPackagingFiles(ralph.dir))).toEqual({
      distribution: { value: "ubuntu/bionic", file: "debian/changelog" },
      python: { value: "3.6", file: "debian/rules" },
      pip: { value: "19.3.1", file: "debian/rules" },
      node: { value: "archive", file: "debian/control" },
    });
    ralph.checkout("--detach", "20190508.1");
    const older = treeTarget(readPackagingFiles(ralph.dir));
    expect(older.distribution).toEqual({ value: "ubuntu/bionic", file: "debian/changelog" });
    expect(older.python).toEqual({ value: "3.6", file: "debian/rules" });
    expect(older.pip).toBeUndefined();
  });

  it("the later Ralph: jammy, its control file's Python and Node minimum", () => {
    expect(treeTarget(readPackagingFiles(treeWithPackaging(LATER_RALPH_PACKAGING)))).toEqual({
      distribution: { value: "ubuntu/jammy", file: "debian/changelog" },
      python: { value: "3.10", file: "debian/control" },
      node: { value: "22.0.0", file: "debian/control" },
    });
  });

  it("a tree without debian/ says nothing; a codename no profile builds is named as such", () => {
    expect(treeTarget(readPackagingFiles(tempDir()))).toEqual({});
    const xenial = treeTarget({ changelog: "ralph (20170101.1) xenial; urgency=low\n" });
    expect(xenial).toEqual({ unsupportedCodename: { value: "xenial", file: "debian/changelog" } });
    // A security suite is its release's.
    expect(treeTarget({ changelog: "ralph (1.0) noble-security; urgency=high\n" }).distribution?.value).toBe(
      "ubuntu/noble",
    );
  });
});
