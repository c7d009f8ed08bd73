/**
 * What an image holds, read from the image: its dpkg database and, where it has one, Ralph's venv.
 * Copied out of a stopped container (`docker create` + `docker cp`), never run. No Pulumi.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { readPythonDistributions, type PythonDistribution } from "./debContents";
import type { InstalledDebianPackage } from "./sbom";
import { PLATFORM_FLAG } from "../platform";
import { STEP_LABEL } from "../runner";

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run("docker", args, { maxBuffer: 64 << 20 })).stdout.trim();

/** Installed packages of a dpkg `status` file. */
export function parseDpkgStatus(status: string): InstalledDebianPackage[] {
  return status
    .split(/\n\s*\n/)
    .map((stanza) => {
      const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(stanza)?.[1]?.trim();
      return {
        name: field("Package"),
        version: field("Version"),
        architecture: field("Architecture"),
        status: field("Status"),
      };
    })
    .filter((p) => p.name && p.version && p.status?.endsWith(" installed"))
    .map((p) => ({ name: p.name!, version: p.version!, architecture: p.architecture ?? "" }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface ImageContents {
  readonly installed: readonly InstalledDebianPackage[];
  readonly python: readonly PythonDistribution[];
}

/** Reads `image` (an id or reference the engine has); `venvs` are directories to read Python from. */
export async function readImageContents(image: string, venvs: readonly string[] = []): Promise<ImageContents> {
  const container = await docker("create", PLATFORM_FLAG, STEP_LABEL, image, "/bin/true");
  const root = mkdtempSync(join(tmpdir(), "ralph-release-image-"));
  try {
    mkdirSync(join(root, "var/lib/dpkg"), { recursive: true });
    // An image without a dpkg database (distroless, scratch) has no Debian packages to list.
    await docker("cp", `${container}:/var/lib/dpkg/status`, join(root, "var/lib/dpkg/status")).catch(() => undefined);
    for (const venv of venvs) {
      mkdirSync(join(root, venv, ".."), { recursive: true });
      await docker("cp", `${container}:${venv}`, join(root, venv));
    }
    const statusFile = join(root, "var/lib/dpkg/status");
    return {
      installed: existsSync(statusFile) ? parseDpkgStatus(readFileSync(statusFile, "utf8")) : [],
      python: readPythonDistributions(root),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
    await docker("rm", container).catch(() => undefined);
  }
}
