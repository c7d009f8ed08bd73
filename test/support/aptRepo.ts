/**
 * What an apt repository needs around it in tests: a throw-away GPG signing key, a static HTTP server
 * on loopback for a published tree, and tiny real .deb files.
 */
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join, normalize } from "node:path";
import { tempDir } from "./gitRepo";

export interface ServedDirectory {
  readonly url: string;
  /** Paths requested so far, in order. */
  readonly requested: string[];
  close(): Promise<void>;
}

/** Serves `root` read-only on 127.0.0.1 (what a maintainer's nginx would do for aptly's public/). */
export async function serveDirectory(root: string): Promise<ServedDirectory> {
  const requested: string[] = [];
  const server = createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    requested.push(urlPath);
    const path = normalize(join(root, urlPath));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-length": statSync(path).size });
    createReadStream(path).pipe(response);
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requested,
    close: () =>
      new Promise((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

/** A new passphrase-less signing key in its own GnuPG home. */
export function signingKey(): { gnupgHome: string; keyId: string } {
  const gnupgHome = tempDir("ralph-release-gpg-");
  const gpg = (...args: string[]) =>
    execFileSync("gpg", ["--homedir", gnupgHome, "--batch", "--quiet", ...args], { encoding: "utf8" });
  gpg(
    "--passphrase",
    "",
    "--quick-generate-key",
    "ralph-release test <apt@example.invalid>",
    "rsa2048",
    "sign",
    "never",
  );
  const keyId = /^fpr:+([0-9A-F]+):/m.exec(gpg("--with-colons", "--list-secret-keys"))?.[1];
  if (!keyId) throw new Error("no key generated");
  return { gnupgHome, keyId };
}

/** The key's secret half, armored, as `gpgSigningKey` takes it (gpg --armor --export-secret-keys). */
export function armoredSecretKey(key: { gnupgHome: string; keyId: string }): string {
  return execFileSync(
    "gpg",
    [
      ...["--homedir", key.gnupgHome, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""],
      ...["--armor", "--export-secret-keys", key.keyId],
    ],
    { encoding: "utf8" },
  );
}

/** The key's public half, armored, written to a file: what users are given to check with (--gpg-key). */
export function publicKeyFile(key: { gnupgHome: string; keyId: string }): string {
  const file = join(tempDir("ralph-release-pubkey-"), "release.asc");
  writeFileSync(file, execFileSync("gpg", ["--homedir", key.gnupgHome, "--armor", "--export", key.keyId]));
  return file;
}

/** A minimal real .deb (control file and one file under /usr/share), built with dpkg-deb. */
export function tinyDeb(name: string, version: string, content = `${name} ${version}\n`): string {
  const root = tempDir("ralph-release-tinydeb-");
  mkdirSync(join(root, "pkg", "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "pkg", "usr", "share", name), { recursive: true });
  writeFileSync(
    join(root, "pkg", "DEBIAN", "control"),
    `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\nMaintainer: Test <t@example.invalid>\nDescription: test package\n`,
  );
  writeFileSync(join(root, "pkg", "usr", "share", name, "VERSION"), content);
  const path = join(root, `${name}_${version}_amd64.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", join(root, "pkg"), path], { stdio: "ignore" });
  return path;
}
