import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildDepends,
  distributionProfile,
  renderControl,
  SUPPORTED_DISTRIBUTIONS,
} from "../../../lib/deb/distributions";
import { PROJECT_DIR } from "../../support/containers";

const template = readFileSync(join(PROJECT_DIR, "debian", "control.in"), "utf8");
const control = (name: string, nodeMinimum?: string) => {
  const profile = distributionProfile(name) ?? expect.fail(`no profile ${name}`);
  return renderControl(template, { profile, pythonMinimum: profile.python, nodeMinimum });
};

describe("distribution profiles", () => {
  it("cover Ralph's own bionic, bullseye, and the later targets", () => {
    expect([...SUPPORTED_DISTRIBUTIONS].sort()).toEqual([
      "debian/bookworm",
      "debian/bullseye",
      "ubuntu/bionic",
      "ubuntu/jammy",
      "ubuntu/noble",
    ]);
  });

  it("bullseye: Python 3.9, MariaDB's client, the debhelper it has", () => {
    const rendered = control("debian/bullseye");
    expect(buildDepends(rendered)).toContain("debhelper-compat (= 13)");
    expect(buildDepends(rendered)).toContain("python3 (>= 3.9)");
    expect(buildDepends(rendered)).toContain("default-libmysqlclient-dev");
    expect(rendered).toMatch(/^Depends:[^]*python3 \(>= 3\.9\),\s+libmariadb3,\s+python3-distutils$/m);
  });

  it("bionic as Ralph builds it: Python 3.6, libmysqlclient20, the archive's debhelper 11 and nodejs, dh-virtualenv from the PPA", async () => {
    const rendered = control("ubuntu/bionic", "archive");
    expect(buildDepends(rendered)).toContain("debhelper-compat (= 11)");
    expect(buildDepends(rendered)).toContain("python3 (>= 3.6)");
    // Unversioned, as Ralph's control file asks: bionic's 8.10.0~dfsg-… is below a `>= 8.10.0`.
    expect(buildDepends(rendered)).toContain("libmysqlclient-dev, nodejs, npm");
    expect(rendered).toMatch(/libmysqlclient20/);
    expect(distributionProfile("ubuntu/bionic")?.builderPpa).toBe("ppa:jyrki-pulliainen/dh-virtualenv");
    // Reviewed as a whole: what the profile renders for a tree with a front end.
    await expect(rendered).toMatchFileSnapshot("golden/control-ubuntu-bionic.txt");
  });

  it("config's extra relations join Build-Depends and Depends", () => {
    const profile = distributionProfile("debian/bullseye") ?? expect.fail("no bullseye");
    const rendered = renderControl(template, {
      profile,
      pythonMinimum: "3.9",
      extraBuildDepends: ["zlib1g-dev", "libjpeg-dev"],
      extraDepends: ["libjpeg62-turbo"],
    });
    expect(buildDepends(rendered)).toMatch(/default-libmysqlclient-dev, zlib1g-dev, libjpeg-dev$/);
    expect(rendered).toMatch(/python3-distutils,\s+libjpeg62-turbo\nSuggests:/);
  });

  it("node joins the build dependencies only for a tree with a front end", () => {
    expect(buildDepends(control("ubuntu/jammy"))).not.toContain("nodejs");
    expect(buildDepends(control("ubuntu/jammy", "22.0.0"))).toContain("nodejs (>= 22.0.0), npm");
  });
});
