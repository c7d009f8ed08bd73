/**
 * How this machine reaches the package indexes a build installs from (pip's, npm's), carried into a
 * builder container: index URLs, trusted hosts, timeouts and the CA bundle they verify TLS with (a
 * machine behind a TLS-inspecting proxy trusts a CA the container's own store lacks). Nothing of
 * the machine is baked into an image or the project: the settings are read at build time. Pure.
 */
import type { CopyIn } from "../runner";

/** pip settings worth carrying (`pip config` keys); host-only ones such as find-links are not. */
const PIP_KEYS = [
  "index-url",
  "extra-index-url",
  "trusted-host",
  "cert",
  "default-timeout",
  "timeout",
  "retries",
  "proxy",
];
const PIP_CERT_KEYS = new Set(["cert"]);

export interface IndexAccess {
  /** Environment for the build in the container. */
  readonly env: Record<string, string>;
  /** CA bundles, copied into the container (never into an image) and gone with it. */
  readonly files: CopyIn[];
}

const pipVariable = (key: string) => `PIP_${key.toUpperCase().replace(/-/g, "_")}`;

/**
 * Parses `pip config list` (`global.cert='/etc/ssl/…'`, `:env:.timeout='60'`): the last value of each
 * key wins, as pip reads them.
 */
export function parsePipConfigList(output: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const match = /^[^.]*\.([a-z-]+)='(.*)'$/.exec(line.trim());
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/**
 * The container's view of the host's index settings. `hostEnv` wins over `pipConfig` (as for pip);
 * `npm` is `npm config get registry cafile`'s answer. Each CA bundle is copied in once, under
 * /run/ralph-release/ca/.
 */
export function indexAccessForContainer(
  hostEnv: NodeJS.ProcessEnv,
  pipConfig: Record<string, string>,
  npm: { registry?: string; cafile?: string },
): IndexAccess {
  const env: Record<string, string> = {};
  const files: CopyIn[] = [];
  const copied = new Map<string, string>();
  const inContainer = (hostPath: string) => {
    let path = copied.get(hostPath);
    if (!path) {
      path = `/run/ralph-release/ca/${copied.size + 1}.pem`;
      copied.set(hostPath, path);
      files.push({ host: hostPath, container: path });
    }
    return path;
  };

  for (const key of PIP_KEYS) {
    const value = hostEnv[pipVariable(key)] ?? pipConfig[key];
    if (value === undefined || value === "") continue;
    env[pipVariable(key)] = PIP_CERT_KEYS.has(key) ? inContainer(value) : value;
  }
  if (npm.registry) env.npm_config_registry = npm.registry;
  const npmCa = npm.cafile ?? hostEnv.NODE_EXTRA_CA_CERTS;
  if (npmCa) {
    env.NODE_EXTRA_CA_CERTS = inContainer(npmCa);
    env.npm_config_cafile = env.NODE_EXTRA_CA_CERTS;
  }
  return { env, files };
}
