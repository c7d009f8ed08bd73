/**
 * What a Ralph checkout says it targets, from its own packaging: the distribution of the newest
 * debian/changelog entry, the Python of debian/rules (`dh_virtualenv --python /usr/bin/python3.6`) or
 * debian/control (`python3 (>=3.6)`), the pip it pins (`--upgrade-pip-to 19.3.1`), and whether its
 * Build-Depends version nodejs. Ralph up to 20241023.1 says bionic, 3.6, pip 19.3.1 and the archive's
 * Node; a tree without a debian/ says nothing. Pure but for reading those three files.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SUPPORTED_DISTRIBUTIONS } from "./distributions";

/** One thing the tree says, and the file that says it. */
export interface TreeHint {
  readonly value: string;
  /** The file in the checkout, e.g. `debian/changelog`. */
  readonly file: string;
}

export interface TreeTarget {
  /** A supported `<distro>/<release>`. */
  readonly distribution?: TreeHint;
  /** A codename the changelog names that no profile builds (e.g. `xenial`). */
  readonly unsupportedCodename?: TreeHint;
  /** `3.6`. */
  readonly python?: TreeHint;
  /** The pip version dh-virtualenv upgrades to, `19.3.1`. */
  readonly pip?: TreeHint;
  /** `archive` (an unversioned nodejs: whatever the distribution has), or the minimum it asks. */
  readonly node?: TreeHint;
}

export interface PackagingFiles {
  readonly changelog?: string;
  readonly rules?: string;
  readonly control?: string;
}

/** debian/changelog, rules and control of the checkout at `source`, those that exist. */
export function readPackagingFiles(source: string): PackagingFiles {
  const read = (file: string) => {
    try {
      return readFileSync(join(source, "debian", file), "utf8");
    } catch {
      return undefined;
    }
  };
  return { changelog: read("changelog"), rules: read("rules"), control: read("control") };
}

/** The profile a codename is, `bionic` → `ubuntu/bionic`. */
function profileOfCodename(codename: string): string | undefined {
  return SUPPORTED_DISTRIBUTIONS.find((name) => name.split("/")[1] === codename);
}

/** The Build-Depends field of a control file, continuation lines joined. */
function buildDependsOf(control: string): string | undefined {
  return /^Build-Depends:((?:.*)(?:\n[ \t].*)*)/m.exec(control)?.[1].replace(/\s+/g, " ");
}

export function treeTarget(files: PackagingFiles): TreeTarget {
  const target: { -readonly [K in keyof TreeTarget]: TreeHint } = {};
  // The newest entry comes first: `ralph (20241023.1) bionic; urgency=medium`; a suite such as
  // `bionic-security` is its codename's.
  const codename = /^\S+ \([^)]+\) ([a-z]+)/m.exec(files.changelog ?? "")?.[1];
  if (codename) {
    const profile = profileOfCodename(codename);
    if (profile) target.distribution = { value: profile, file: "debian/changelog" };
    else target.unsupportedCodename = { value: codename, file: "debian/changelog" };
  }
  const rulesPython = /--python[ =]\/usr\/bin\/python(\d+\.\d+)\b/.exec(files.rules ?? "")?.[1];
  const controlPython = /\bpython3 \(>= ?(\d+\.\d+)\)/.exec(files.control ?? "")?.[1];
  if (rulesPython) target.python = { value: rulesPython, file: "debian/rules" };
  else if (controlPython) target.python = { value: controlPython, file: "debian/control" };
  const pip = /--upgrade-pip-to[ =](\d+(?:\.\d+)*)\b/.exec(files.rules ?? "")?.[1];
  if (pip) target.pip = { value: pip, file: "debian/rules" };
  const buildDepends = buildDependsOf(files.control ?? "");
  const nodejs = buildDepends && /(?:^|[ ,|])nodejs(?: \(>= ?(\d+(?:\.\d+){0,2})\))?(?=$|[ ,|])/.exec(buildDepends);
  if (nodejs) target.node = { value: nodejs[1] ?? "archive", file: "debian/control" };
  return target;
}
