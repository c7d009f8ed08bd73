/**
 * A signed apt repository on loopback laid out as packagecloud serves one
 * (`<base>/<user>/<repo>/<distro>/dists/<release>/…`, key at `<base>/<user>/<repo>/gpgkey`), so a
 * release image can install ralph-core=<version> exactly as it would from packagecloud.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { basename, join, normalize } from "node:path";
import { tempDir } from "./gitRepo";

export interface AptRepo {
  /** Base URL, like https://packagecloud.io. */
  readonly url: string;
  close(): Promise<void>;
}

export async function serveAptRepo(
  debs: string[],
  options: { repository: string; distro: string; release: string },
): Promise<AptRepo> {
  const root = tempDir("ralph-release-apt-");
  const repoDir = join(root, options.repository);
  const distroDir = join(repoDir, options.distro);
  const pool = join(distroDir, "pool", "main");
  const binary = join(distroDir, "dists", options.release, "main", "binary-amd64");
  mkdirSync(pool, { recursive: true });
  mkdirSync(binary, { recursive: true });
  for (const deb of debs) copyFileSync(deb, join(pool, basename(deb)));
  const packages = execFileSync("apt-ftparchive", ["packages", "pool"], { cwd: distroDir, encoding: "utf8" });
  writeFileSync(join(binary, "Packages"), packages);
  execFileSync("gzip", ["-kf", join(binary, "Packages")]);
  const dists = join(distroDir, "dists", options.release);
  const release = execFileSync(
    "apt-ftparchive",
    [
      "-o",
      `APT::FTPArchive::Release::Suite=${options.release}`,
      "-o",
      "APT::FTPArchive::Release::Components=main",
      "-o",
      "APT::FTPArchive::Release::Architectures=amd64",
      "release",
      ".",
    ],
    { cwd: dists, encoding: "utf8" },
  );
  writeFileSync(join(dists, "Release"), release);

  const gnupg = tempDir("ralph-release-gpg-");
  const gpg = (...args: string[]) =>
    execFileSync("gpg", ["--homedir", gnupg, "--batch", "--quiet", ...args], { encoding: "utf8" });
  gpg(
    "--passphrase",
    "",
    "--quick-generate-key",
    "ralph-release test repository <apt@example.invalid>",
    "rsa2048",
    "sign",
    "never",
  );
  gpg("--armor", "--output", join(repoDir, "gpgkey"), "--export");
  gpg("--clearsign", "--output", join(dists, "InRelease"), join(dists, "Release"));

  const server: Server = createServer((request, response) => {
    const path = normalize(join(root, decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname)));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-length": statSync(path).size });
    createReadStream(path).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
