/**
 * `npm run verify -- <version>`: what a user runs before installing a build. One line per check;
 * exit 0 only when every check passes, 1 when one fails, 2 on a usage error.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isUserFacing, UserError } from "../lib/errors";
import { downloadRelease } from "../lib/github/releaseClient";
import { GITHUB_OIDC_ISSUER } from "../lib/supply/sigstore";
import { artifactDirFor, renderCheckLines, verifyRelease } from "../lib/supply/verify";

const USAGE = `usage: npm run verify -- <version> [--github OWNER/REPO | --dir DIR] <trust anchor>...

  <version>             Ralph's version: a release tag, or a snapshot's version built into build/
  --github OWNER/REPO   check the published GitHub release's assets (downloaded; GITHUB_API_URL for
                        GitHub Enterprise Server, GITHUB_TOKEN if the repository is private)
  --dir DIR             the build's directory instead of build/<debian version>/

  Trust anchors: at least one; the keys written beside a build are never one.
  --gpg-key FILE        armored public key SHA256SUMS.asc must be made with (the release's, as its
                        maintainers publish it): then everything SHA256SUMS lists is vouched for
  --key FILE            PEM public key the Sigstore bundles must be signed with
  --identity SUBJECT    keyless: the exact certificate subject, the publish workflow of the tag, e.g.
                        https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/<version>
  --identity-regexp RE  keyless: a pattern the whole subject must match, instead of --identity
  --issuer URL          keyless: the OIDC issuer, exactly (default ${GITHUB_OIDC_ISSUER})
  --trusted-root FILE   keyless: Sigstore's trusted_root.json

  With --github, a keyless certificate must also name that repository and refs/tags/<version>.
  Images are read with RALPH_REGISTRY_USERNAME/RALPH_REGISTRY_PASSWORD, else the login docker login
  stored for the registry, else anonymously. Exit 0 when every check passes, 1 when one fails, 2 on a
  usage error.`;

class UsageError extends UserError {}

const PROJECT_DIR = resolve(__dirname, "..");
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export async function runVerify(
  argv: string[],
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<{ output: string; ok: boolean }> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: "string" },
      github: { type: "string" },
      "gpg-key": { type: "string" },
      key: { type: "string" },
      identity: { type: "string" },
      "identity-regexp": { type: "string" },
      issuer: { type: "string" },
      "trusted-root": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { output: USAGE, ok: true };
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const at = (path: string | undefined) => path && resolve(cwd, path);
  if (positionals.length !== 1) throw new UsageError(`give the version to check\n${USAGE}`);
  if (values.dir && values.github) throw new UsageError(`--dir and --github: give one\n${USAGE}`);
  if (values.identity && values["identity-regexp"])
    throw new UsageError(`--identity and --identity-regexp: give one\n${USAGE}`);
  if (values.github !== undefined && !REPOSITORY.test(values.github))
    throw new UsageError(`--github ${JSON.stringify(values.github)} is not OWNER/REPO\n${USAGE}`);
  const [version] = positionals;
  let downloaded: string | undefined;
  try {
    let dir: string;
    if (values.github) {
      downloaded = dir = mkdtempSync(join(tmpdir(), "ralph-release-verify-"));
      const apiUrl = process.env.GITHUB_API_URL || "https://api.github.com";
      const names = await downloadRelease(
        { apiUrl, token: process.env.GITHUB_TOKEN || undefined, log },
        values.github,
        version,
        dir,
      );
      log(`downloaded ${names.length} assets of ${values.github} ${version}`);
    } else dir = at(values.dir) ?? artifactDirFor(resolve(PROJECT_DIR, "build"), version);
    const username = process.env.RALPH_REGISTRY_USERNAME;
    const lines = await verifyRelease({
      dir,
      version,
      gpgKeyFile: at(values["gpg-key"]),
      sigstoreKeyFile: at(values.key),
      identity: values.identity,
      identityRegexp: values["identity-regexp"],
      issuer: values.issuer,
      trustedRootFile: at(values["trusted-root"]),
      repository: values.github,
      registryLogin: username ? { username, password: process.env.RALPH_REGISTRY_PASSWORD ?? "" } : undefined,
    });
    const ok = lines.every((line) => line.ok);
    const failed = lines.filter((line) => !line.ok).length;
    const checked = lines.filter((line) => !line.skipped).length;
    const from = values.github ? `the GitHub release ${values.github} ${version}` : dir;
    const summary = ok ? `All ${checked} checks passed: ${from}` : `${failed} of ${checked} checks failed: ${from}`;
    return { output: `${renderCheckLines(lines)}\n${summary}`, ok };
  } finally {
    if (downloaded) rmSync(downloaded, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runVerify(process.argv.slice(2)).then(
    ({ output, ok }) => {
      process.stdout.write(`${output}\n`);
      process.exitCode = ok ? 0 : 1;
    },
    (error: Error) => {
      const known = isUserFacing(error);
      process.stderr.write(`ralph-release verify: ${known ? error.message : error.stack}\n`);
      process.exitCode = error instanceof UsageError || !known ? 2 : 1;
    },
  );
}
