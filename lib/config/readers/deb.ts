/** The target distribution (the config's, else the checkout's, else the default) and how the deb is built for it. */
import { existsSync } from "node:fs";
import { distributionProfile, SUPPORTED_DISTRIBUTIONS } from "../../deb/distributions";
import { readPackagingFiles, type TreeHint, treeTarget } from "../../deb/treeTarget";
import { dependencyList } from "../checks";
import { type ConfigReader, isDirectory } from "../reader";
import type { Settings, TargetOrigin } from "../settings";

/** What a build targets when neither the checkout nor the stack says: the later Ralph's. */
export const DEFAULT_DISTRIBUTION = "ubuntu/jammy";
const DEFAULT_NODE_MINIMUM = "22.0.0";

/**
 * The target (distribution, Python, pip, Node), each from the stack's config, else from the
 * checkout's own packaging when that targets the same distribution, else the defaults; a config that
 * disagrees with the checkout is kept, with a notice naming both.
 */
function readTarget(r: ConfigReader, source: string): { target: Settings["target"]; notices: string[] } {
  const tree = treeTarget(readPackagingFiles(source));
  const notices: string[] = [];
  const configured = r.text("distribution");
  let distribution: TargetOrigin;
  if (configured !== "auto") {
    distribution = { value: configured, from: "config" };
    if (tree.distribution && tree.distribution.value !== configured) {
      notices.push(
        `distribution ${configured} (config) is not what the checkout targets: its ${tree.distribution.file} says ${tree.distribution.value}` +
          `${tree.python ? `, its ${tree.python.file} Python ${tree.python.value}` : ""}. Fix: ` +
          `pulumi config rm --stack ${r.stack} distribution (auto: the checkout's), unless this tree builds on ${configured}`,
      );
    }
  } else if (tree.distribution) {
    distribution = { value: tree.distribution.value, from: tree.distribution.file };
  } else {
    distribution = { value: DEFAULT_DISTRIBUTION, from: "default" };
    if (tree.unsupportedCodename) {
      notices.push(
        `the checkout's ${tree.unsupportedCodename.file} names ${tree.unsupportedCodename.value}, which no profile builds: building for ${DEFAULT_DISTRIBUTION}. Fix: ${r.setCommand("distribution")} (or another of ${SUPPORTED_DISTRIBUTIONS.join(", ")})`,
      );
    }
  }
  const profile = distributionProfile(distribution.value);
  // The checkout's Python, pip and Node are for the distribution it names, and only for that one.
  const treeApplies = tree.distribution?.value === distribution.value;
  const pick = (
    key: "pythonMinimum" | "pipVersion" | "nodeMinimum",
    hint: TreeHint | undefined,
    fallback: TargetOrigin,
  ) => {
    const set = r.optional(key);
    if (set !== undefined) return { value: set, from: "config" };
    return treeApplies && hint ? { value: hint.value, from: hint.file } : fallback;
  };
  const python = pick("pythonMinimum", tree.python, {
    value: profile?.python ?? "",
    from: `default: ${distribution.value}'s python3`,
  });
  const pip = pick("pipVersion", tree.pip, { value: "", from: "default: the venv's own" });
  // `archive` (an unversioned nodejs in the tree's control file): the distribution's own.
  const node = pick("nodeMinimum", tree.node, { value: DEFAULT_NODE_MINIMUM, from: "default" });
  return { target: { distribution, python, pip, node }, notices };
}

/** One line: each part of the target with where it came from. */
export function describeTarget(target: Settings["target"]): string {
  const part = (label: string, origin: TargetOrigin, none: string) =>
    `${label}${origin.value || none} (${origin.from})`;
  return [
    part("", target.distribution, ""),
    part("Python ", target.python, ""),
    part("pip ", target.pip, "as the venv has it"),
    part("Node ", target.node.value === "archive" ? { ...target.node, value: "the archive's" } : target.node, ""),
  ].join(", ");
}

export function readDeb(
  r: ConfigReader,
  source: string,
): Pick<Settings, "distribution" | "deb" | "target"> & { notices: string[] } {
  const { target, notices } = readTarget(r, source);
  const name = target.distribution.value;
  const [distro, release] = name.split("/");
  const profile = distributionProfile(name);
  const assetsSetting = r.optional("frontendAssets");
  const frontendAssets = assetsSetting === undefined ? undefined : r.absolute(assetsSetting);
  if (frontendAssets !== undefined && !isDirectory(frontendAssets)) {
    r.problem(
      "frontendAssets",
      `${frontendAssets} does not exist or is not a directory`,
      `point it at the directory of pre-built front-end assets, or \`pulumi config rm --stack ${r.stack} frontendAssets\` to build the front end`,
    );
  }
  return {
    distribution: { distro, release, name },
    target,
    notices,
    deb: {
      builder: r.text("builder") as "container" | "host",
      baseImage: r.optional("baseImage") ?? profile?.baseImage ?? "",
      pythonMinimum: target.python.value,
      nodeMinimum: target.node.value,
      ...(target.pip.value ? { pipVersion: target.pip.value } : {}),
      nodeAptSource: readNodeAptSource(r),
      pipArgs: r
        .text("pipArgs")
        .split(/\s+/)
        .filter((arg) => arg.length > 0),
      extraBuildDepends: dependencyList(r.text("extraBuildDepends")),
      extraDepends: dependencyList(r.text("extraDepends")),
      frontendAssets,
    },
  };
}

/** The apt source and the key it is signed with go together; an unsigned source is not accepted. */
function readNodeAptSource(r: ConfigReader): Settings["deb"]["nodeAptSource"] {
  const source = r.optional("nodeAptSource");
  const keySetting = r.optional("nodeAptKey");
  if (source === undefined && keySetting === undefined) return undefined;
  if (source === undefined || keySetting === undefined) {
    const missing = source === undefined ? "nodeAptSource" : "nodeAptKey";
    r.problem(missing, "is missing: nodeAptSource and nodeAptKey go together", r.setCommand(missing));
    return undefined;
  }
  const keyFile = r.absolute(keySetting);
  if (!existsSync(keyFile)) {
    r.problem(
      "nodeAptKey",
      `${keyFile} does not exist`,
      `download the source's signing key there, or ${r.setCommand("nodeAptKey")}`,
    );
    return undefined;
  }
  return { source, keyFile };
}
