/** The target distribution and how the deb is built for it. */
import { existsSync } from "node:fs";
import { distributionProfile } from "../../deb/distributions";
import { dependencyList } from "../checks";
import { type ConfigReader, isDirectory } from "../reader";
import type { Settings } from "../settings";

export function readDeb(r: ConfigReader): Pick<Settings, "distribution" | "deb"> {
  const name = r.text("distribution");
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
    deb: {
      builder: r.text("builder") as "container" | "host",
      baseImage: r.optional("baseImage") ?? profile?.baseImage ?? "",
      pythonMinimum: r.optional("pythonMinimum") ?? profile?.python ?? "",
      nodeMinimum: r.text("nodeMinimum"),
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
