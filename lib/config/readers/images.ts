/** The three images: whether they are built and pushed, where to, and inkpy's own checkout. */
import { existsSync } from "node:fs";
import { LOOPBACK_HOST } from "../checks";
import type { ConfigReader } from "../reader";
import type { Settings } from "../settings";

export function readImages(r: ConfigReader): { images: Settings["images"]; push: boolean; notices: string[] } {
  const build = r.flag("images");
  const notices: string[] = [];
  const images = {
    build,
    registry: r.text("registry"),
    namespace: r.text("imageNamespace"),
    username: r.optional("registryUsername"),
    nginxImage: r.text("nginxImage"),
    inkpy: build && r.flag("inkpy") ? readInkpy(r, notices) : undefined,
  };
  const push = build && r.flag("publishImages");
  checkRegistryLogin(r, images.registry, push);
  return { images, push, notices };
}

/** inkpy's recipe, or undefined with a notice (snapshot) or a problem (release) when it is missing. */
function readInkpy(r: ConfigReader, notices: string[]): Settings["images"]["inkpy"] {
  const setting = r.text("inkpySource");
  const context = r.absolute(setting);
  const dockerfileSetting = r.text("inkpyDockerfile");
  const dockerfile = r.absolute(dockerfileSetting, context);
  if (existsSync(dockerfile)) return { context, dockerfile };
  const fix = `git clone https://github.com/allegro/inkpy ${setting} (or ${r.setCommand("inkpySource")})`;
  if (r.mode === "release") {
    r.problem(
      "inkpySource",
      `has no inkpy recipe: ${dockerfile} does not exist (inkpy is its own project, not part of Ralph's tree)`,
      `${fix}, or release without it: pulumi config set --stack ${r.stack} inkpy false`,
    );
  } else {
    notices.push(
      `inkpy left out: no ${dockerfileSetting} in ${setting} (inkpySource). To build it: ${fix}; to leave it out quietly: inkpy false.`,
    );
  }
  return undefined;
}

function checkRegistryLogin(r: ConfigReader, registry: string, push: boolean): void {
  const username = r.optional("registryUsername");
  const password = r.optional("registryPassword");
  if ((username === undefined) !== (password === undefined)) {
    const missing = username === undefined ? "registryUsername" : "registryPassword";
    r.problem(missing, "is missing: registry username and password go together", r.setCommand(missing));
  } else if (push && username === undefined && !LOOPBACK_HOST.test(registry)) {
    for (const key of ["registryUsername", "registryPassword"] as const) {
      r.problem(
        key,
        `is needed to push images to ${registry} (publishImages is on)`,
        `${r.setCommand(key)}, or set publishImages false.`,
      );
    }
  }
}
