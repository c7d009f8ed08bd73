/**
 * `npm run verify -- <version>`: what a user runs before installing a build. One line per check;
 * exit 0 only when every check passes, 1 when one fails, 2 on a usage error.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isUserFacing, UserError } from "../lib/errors";
import { artifactDirFor, renderCheckLines, verifyRelease } from "../lib/supply/verify";

const USAGE = `usage: npm run verify -- <version> [--dir DIR] [--gpg-key FILE] [--key FILE]
                          [--identity SUBJECT [--issuer URL] --trusted-root FILE]

  <version>             Ralph's version (a release tag, or a snapshot's version) built into build/
  --dir DIR             the build's directory instead (build/<debian version>/)
  --gpg-key FILE        armored public key SHA256SUMS.asc must be made with (the aptly repository's)
  --key FILE            PEM public key the Sigstore bundles must be signed with
  --identity SUBJECT    keyless: the certificate subject the bundles must carry (the publish
                        workflow's URL, e.g. https://github.com/allegro/ralph/.github/workflows/publish.yml@refs/tags/<version>)
  --issuer URL          keyless: the OIDC issuer (GitHub Actions: https://token.actions.githubusercontent.com)
  --trusted-root FILE   keyless: Sigstore's trusted_root.json

  Without --gpg-key/--key the keys written beside the build are used: that shows the files are
  intact, not who made them. Images are read with RALPH_REGISTRY_USERNAME/RALPH_REGISTRY_PASSWORD,
  else the login docker login stored for the registry, else anonymously.`;

class UsageError extends UserError {}

const PROJECT_DIR = resolve(__dirname, "..");

export async function runVerify(argv: string[]): Promise<{ output: string; ok: boolean }> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: "string" },
      "gpg-key": { type: "string" },
      key: { type: "string" },
      identity: { type: "string" },
      issuer: { type: "string" },
      "trusted-root": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { output: USAGE, ok: true };
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const at = (path: string | undefined) => path && resolve(cwd, path);
  if (positionals.length !== 1 && !values.dir) throw new UsageError(USAGE);
  const dir = at(values.dir) ?? artifactDirFor(resolve(PROJECT_DIR, "build"), positionals[0]);
  const username = process.env.RALPH_REGISTRY_USERNAME;
  const lines = await verifyRelease({
    dir,
    gpgKeyFile: at(values["gpg-key"]),
    sigstoreKeyFile: at(values.key),
    identity: values.identity,
    issuer: values.issuer,
    trustedRootFile: at(values["trusted-root"]),
    registryLogin: username ? { username, password: process.env.RALPH_REGISTRY_PASSWORD ?? "" } : undefined,
  });
  const ok = lines.every((line) => line.ok);
  const failed = lines.filter((line) => !line.ok).length;
  const summary = ok
    ? `All ${lines.length} checks passed: ${dir}`
    : `${failed} of ${lines.length} checks failed: ${dir}`;
  return { output: `${renderCheckLines(lines)}\n${summary}`, ok };
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
