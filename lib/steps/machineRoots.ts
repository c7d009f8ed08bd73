/**
 * Paths of this machine never reach what the engine compares: a step's request and result name them
 * relative to a root (`{project}/build/…`, `{checkout}`), and each run maps the roots back to where
 * they are on the machine it runs on. The same stack previewed from another clone, with the Ralph
 * checkout elsewhere, then compares equal. Pure.
 */
import { isAbsolute, relative, resolve, sep } from "node:path";

/** Where each root is on this machine (absolute paths). */
export interface MachineRoots {
  /** This project's directory: recipes, the CLI, `build/`. */
  readonly project: string;
  /** The Ralph checkout being packaged. */
  readonly checkout: string;
  /** inkpy's checkout, when its image is built. */
  readonly inkpy?: string;
}

const ROOT = /^\{(project|checkout|inkpy)\}(?=\/|$)/;

/** The roots from longest to shortest, so a checkout inside the project is named as the checkout. */
function byDepth(roots: MachineRoots): [keyof MachineRoots, string][] {
  return (Object.entries(roots) as [keyof MachineRoots, string | undefined][])
    .filter((entry): entry is [keyof MachineRoots, string] => typeof entry[1] === "string" && entry[1] !== "")
    .map(([name, path]) => [name, resolve(path)] as [keyof MachineRoots, string])
    .sort((a, b) => b[1].length - a[1].length);
}

function tokenizePath(path: string, roots: [keyof MachineRoots, string][]): string {
  if (!isAbsolute(path)) return path;
  for (const [name, root] of roots) {
    if (path === root) return `{${name}}`;
    if (path.startsWith(root + sep)) return `{${name}}/${relative(root, path).split(sep).join("/")}`;
  }
  return path;
}

function expandPath(value: string, roots: MachineRoots): string {
  const match = ROOT.exec(value);
  if (!match) return value;
  const root = roots[match[1] as keyof MachineRoots];
  if (!root) throw new Error(`${value} names the ${match[1]} root, which this run does not have`);
  return resolve(root) + value.slice(match[0].length);
}

function mapStrings(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  }
  return value;
}

/** Every absolute path under a root, anywhere in `value` (strings, arrays, objects), named from its root. */
export function tokenizePaths<T>(value: T, roots: MachineRoots): T {
  const sorted = byDepth(roots);
  return mapStrings(value, (s) => tokenizePath(s, sorted)) as T;
}

/** The inverse: every `{root}/…` in `value` as this machine's absolute path. */
export function expandPaths<T>(value: T, roots: MachineRoots): T {
  return mapStrings(value, (s) => expandPath(s, roots)) as T;
}
