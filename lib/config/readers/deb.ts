/** The target distribution and how the deb is built for it. */
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
