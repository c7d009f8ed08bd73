/**
 * What a Ralph checkout says it targets, from its own packaging: the distribution of the newest
 * debian/changelog entry, the Python of debian/rules (`dh_virtualenv --python /usr/bin/python3.6`) or
 * debian/control (`python3 (>=3.6)`), the pip it pins (`--upgrade-pip-to 19.3.1`), and whether its
 * Build-Depends version nodejs. Ralph up to 20241023.1 says bionic, 3.6, pip 19.3.1 and the archive's
 * Node; a tree without a debian/ says nothing. Pure but for reading those three files.
 */
import { closeSync, lstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { buildDependsField, SUPPORTED_DISTRIBUTIONS } from "./distributions";

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

/** What is read of each file: the newest changelog entry and the rules are at the top. */
const READ_LIMIT = 64 * 1024;

/**
 * debian/changelog, rules and control of the checkout at `source`, those that are regular files
 * (a link or a FIFO in a branch's tree is not followed), each up to its first 64 KiB.
 */
export function readPackagingFiles(source: string): PackagingFiles {
  const read = (file: string) => {
    const path = join(source, "debian", file);
    try {
      if (!lstatSync(path).isFile()) return undefined;
      const fd = openSync(path, "r");
      try {
        const buffer = Buffer.alloc(READ_LIMIT);
        return buffer.subarray(0, readSync(fd, buffer, 0, READ_LIMIT, 0)).toString("utf8");
      } finally {
        closeSync(fd);
      }
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

/** The file without its comment lines (make's and the control file's `#`). */
const uncommented = (text: string | undefined) => (text ?? "").replace(/^[ \t]*#.*(?:\r?\n|$)/gm, "");

export function treeTarget(files: PackagingFiles): TreeTarget {
  const target: { -readonly [K in keyof TreeTarget]: TreeHint } = {};
  // The newest entry is the first line: `ralph (20241023.1) bionic; urgency=medium`; a suite such as
  // `bionic-security` is its codename's, and `UNRELEASED` names none.
  const firstLine = (files.changelog ?? "")
    .replace(/^\uFEFF/, "")
    .trimStart()
    .split(/\r?\n/)[0];
  const codename = /^\S+ \([^)]+\) ([A-Za-z]+)/.exec(firstLine)?.[1];
  if (codename) {
    const profile = profileOfCodename(codename);
    if (profile) target.distribution = { value: profile, file: "debian/changelog" };
    else target.unsupportedCodename = { value: codename, file: "debian/changelog" };
  }
  const rules = uncommented(files.rules);
  const control = uncommented(files.control);
  const rulesPython = /--python[ =]\/usr\/bin\/python(\d+\.\d+)\b/.exec(rules)?.[1];
  const controlPython = /\bpython3 \(>= ?(\d+\.\d+)\)/.exec(control)?.[1];
  if (rulesPython) target.python = { value: rulesPython, file: "debian/rules" };
  else if (controlPython) target.python = { value: controlPython, file: "debian/control" };
  // Only a plain version reaches debian/rules (pipVersion's own rule); `19.3.1rc1` is left to the venv.
  const pip = /--upgrade-pip-to[ =](\S+)/.exec(rules)?.[1];
  if (pip && /^\d+(\.\d+){0,2}$/.test(pip)) target.pip = { value: pip, file: "debian/rules" };
  const buildDepends = buildDependsField(control);
  // `nodejs`, `nodejs (>= 10)`, `nodejs (>> 10.0~)`: a lower bound is the minimum (its `~…` dropped).
  const nodejs = buildDepends && /(?:^|[ ,|])nodejs(?: \(([<>=]+) ?([0-9][^)\s]*)\))?(?=$|[ ,|])/.exec(buildDepends);
  if (nodejs) {
    const minimum = nodejs[1] && /^(>=|>>|=)$/.test(nodejs[1]) ? /^\d+(?:\.\d+){0,2}/.exec(nodejs[2])?.[0] : undefined;
    target.node = { value: minimum ?? "archive", file: "debian/control" };
  }
  return target;
}
