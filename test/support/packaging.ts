/** Checkouts whose debian/ says what they target, for what the real tree (bionic) cannot show. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./gitRepo";

/** A checkout whose debian/ holds these files. */
export function treeWithPackaging(files: Record<string, string>): string {
  const dir = tempDir("ralph-release-tree-");
  mkdirSync(join(dir, "debian"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "debian", name), text);
  return dir;
}

/** The later Ralph the packaging docs describe: jammy, Python >= 3.10, Node 22. */
export const LATER_RALPH_PACKAGING = {
  changelog:
    "ralph (20250301.1) jammy; urgency=medium\n\n  * Python 3.10.\n\n -- Ralph <ralph@allegro.pl>  Sat, 01 Mar 2025 12:00:00 +0100\n",
  control:
    "Source: ralph\nBuild-Depends: debhelper (>= 13), dh-virtualenv,\n python3 (>= 3.10), python3-dev,\n nodejs (>= 22.0.0), npm\n\nPackage: ralph-core\nArchitecture: amd64\nDepends: python3 (>= 3.10)\n",
  rules:
    "%:\n\tdh $@ --with python-virtualenv\n\noverride_dh_virtualenv:\n\tdh_virtualenv --python /usr/bin/python3 --requirements requirements/prod.txt\n",
};
