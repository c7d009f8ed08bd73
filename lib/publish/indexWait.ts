/**
 * Waits until an apt repository's index lists a package version, i.e. until `apt-get install
 * name=version` can work: what replaces Ralph's fixed sleep before the release image build.
 */
import { gunzipSync } from "node:zlib";
import { UserError } from "../errors";

export interface IndexWaitRequest {
  /** Apt source base, like https://packagecloud.io/allegro/ralph/ubuntu (the part before ` <release> main`). */
  readonly baseUrl: string;
  readonly release: string;
  readonly component?: string;
  readonly architecture?: string;
  readonly packageName: string;
  readonly version: string;
  readonly deadlineMs?: number;
  readonly intervalMs?: number;
  readonly log?: (line: string) => void;
}

/** Package → versions in an apt `Packages` file. */
export function indexedVersions(packagesFile: string): Map<string, Set<string>> {
  const versions = new Map<string, Set<string>>();
  for (const stanza of packagesFile.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    if (!name || !version) continue;
    versions.set(name, (versions.get(name) ?? new Set()).add(version));
  }
  return versions;
}

async function fetchIndex(url: string): Promise<string | undefined> {
  for (const [suffix, decode] of [
    ["", (b: Buffer) => b.toString("utf8")],
    [".gz", (b: Buffer) => gunzipSync(b).toString("utf8")],
  ] as const) {
    const response = await fetch(`${url}${suffix}`, { signal: AbortSignal.timeout(30_000) });
    if (response.ok) return decode(Buffer.from(await response.arrayBuffer()));
  }
  return undefined;
}

/** Resolves once the version is indexed; throws at the deadline saying what was seen. */
export async function waitForIndexedVersion(request: IndexWaitRequest): Promise<{ waitedMs: number }> {
  const component = request.component ?? "main";
  const architecture = request.architecture ?? "amd64";
  const deadline = request.deadlineMs ?? 600_000;
  const interval = request.intervalMs ?? 5_000;
  const url = `${request.baseUrl.replace(/\/$/, "")}/dists/${request.release}/${component}/binary-${architecture}/Packages`;
  const started = Date.now();
  let seen = "nothing yet";
  for (;;) {
    try {
      const index = await fetchIndex(url);
      const versions = index === undefined ? undefined : indexedVersions(index).get(request.packageName);
      if (versions?.has(request.version)) return { waitedMs: Date.now() - started };
      seen =
        index === undefined
          ? `no index at ${url}`
          : `${request.packageName} versions indexed: ${versions ? [...versions].join(", ") : "none"}`;
    } catch (error) {
      seen = `${url}: ${(error as Error).message}`;
    }
    const waited = Date.now() - started;
    if (waited + interval > deadline) {
      throw new UserError(
        `${request.packageName} ${request.version} is not installable from ${request.baseUrl} after ` +
          `${Math.round(waited / 1000)} s (${seen}). The repository has not indexed it yet or the upload went ` +
          "elsewhere: check the publish step's output, then run the update again (published packages are kept).",
      );
    }
    request.log?.(`waiting for ${request.packageName} ${request.version} in ${request.baseUrl} (${seen})`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, interval));
  }
}
