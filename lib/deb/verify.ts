/**
 * The verification gate between building and publishing the deb: control fields, the files Ralph
 * needs, lintian, and a real install into a clean container of the target distribution. Every check
 * runs; a failure reports each failed check with its own output.
 */
import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { UserError } from "../errors";
import { type CopyIn, type Runner, runStep, tail } from "../runner";

export class DebVerificationError extends UserError {}

export const CONSOLE_SCRIPTS = ["ralph", "dev_ralph", "test_ralph", "validate_ralph"] as const;
const VENV_BIN = "/opt/ralph/ralph-core/bin";
const REQUIRED_FILES = [
  "/etc/ralph/ralph.conf",
  "/etc/ralph/conf.d/gunicorn.conf",
  "/etc/ralph/conf.d/redis.conf",
  "/etc/ralph/conf.d/cache.conf",
  "/var/local/ralph/gunicorn.ini",
];
const REQUIRED_DIRS = ["/var/log/ralph", "/var/local/ralph/media", "/usr/share/ralph/static"];
const UNIT_PATHS = ["/lib/systemd/system/ralph.service", "/usr/lib/systemd/system/ralph.service"];

export interface VerifyRequest {
  readonly debPath: string;
  readonly expected: { readonly packageName: string; readonly version: string; readonly architecture: string };
  /** Image with dpkg-dev and lintian (the builder) for the static checks; on this machine when absent. */
  readonly checkerImage?: string;
  /** Clean image of the target distribution the deb must install into. */
  readonly installImage: string;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** What failed, with the check's own output; empty when ok. */
  readonly detail: string;
  /** The last lines of the check's output, kept for the record either way. */
  readonly output: string;
}

interface Entry {
  readonly mode: string;
  readonly path: string;
}

/** Parses `dpkg-deb --contents` lines into mode and absolute path. */
export function parseContents(listing: string): Entry[] {
  return listing
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      const rawPath = fields
        .slice(5)
        .join(" ")
        .replace(/ -> .*$/, "");
      return { mode: fields[0], path: rawPath.replace(/^\./, "").replace(/\/$/, "") || "/" };
    });
}

/** What is wrong with the package's files; empty when nothing is. Pure, for direct tests. */
export function contentProblems(entries: readonly Entry[]): string[] {
  const byPath = new Map(entries.map((e) => [e.path, e.mode]));
  const problems: string[] = [];
  const executable = (path: string) => {
    const mode = byPath.get(path);
    if (mode === undefined) problems.push(`${path} is missing`);
    else if (!/^-..x/.test(mode) && !/^l/.test(mode)) problems.push(`${path} is not executable (${mode})`);
  };
  for (const script of CONSOLE_SCRIPTS) executable(`${VENV_BIN}/${script}`);
  executable("/usr/bin/ralphctl");
  for (const path of REQUIRED_FILES) if (!byPath.has(path)) problems.push(`${path} is missing`);
  for (const path of REQUIRED_DIRS) if (byPath.get(path)?.[0] !== "d") problems.push(`directory ${path} is missing`);
  if (!UNIT_PATHS.some((path) => byPath.has(path)))
    problems.push(`systemd unit ralph.service is missing (${UNIT_PATHS.join(" or ")})`);
  return problems;
}

/** Mismatches between the control fields and what was built. */
export function controlProblems(fields: Record<string, string>, expected: VerifyRequest["expected"]): string[] {
  const problems: string[] = [];
  const want: Record<string, string> = {
    Package: expected.packageName,
    Version: expected.version,
    Architecture: expected.architecture,
  };
  for (const [field, value] of Object.entries(want)) {
    if (fields[field] !== value)
      problems.push(`${field} is ${JSON.stringify(fields[field] ?? "")}, expected ${JSON.stringify(value)}`);
  }
  if (!/(^|,\s*)python3 \(>= [0-9.]+\)/.test(fields.Depends ?? ""))
    problems.push(`Depends lacks python3 (>= …): ${fields.Depends ?? "(none)"}`);
  if (!/^.+ <[^@\s]+@[^>\s]+>$/.test(fields.Maintainer ?? ""))
    problems.push(`Maintainer is not "Name <email>": ${fields.Maintainer ?? "(none)"}`);
  return problems;
}

function parseFields(output: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let current = "";
  for (const line of output.split("\n")) {
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (match) {
      current = match[1];
      fields[current] = match[2];
    } else if (current && /^\s/.test(line)) fields[current] += ` ${line.trim()}`;
  }
  return fields;
}

const INSTALL_SCRIPT = `set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "/debs/$DEB_FILE"
echo "--- ralph --version"
${VENV_BIN}/ralph --version
echo "--- ralphctl --version"
ralphctl --version
test -s /etc/ralph/conf.d/database.conf || { echo "database.conf was not written"; exit 1; }
[ -n "$(ls -A /usr/share/ralph/static)" ] || { echo "postinst collected no static files into /usr/share/ralph/static"; exit 1; }
unreadable=$(find /usr/share/ralph/static -type f ! -perm -o+r | head -n 5)
[ -z "$unreadable" ] || { echo "static files the web server cannot read: $unreadable"; exit 1; }
stat -c '%a %U %n' /etc/ralph/conf.d/database.conf
id ralphsrv
echo "--- installed"
`;

export async function verifyDeb(
  request: VerifyRequest,
  log: (line: string) => void = () => {},
): Promise<CheckResult[]> {
  if (!existsSync(request.debPath))
    throw new DebVerificationError(`${request.debPath} does not exist; nothing to verify.`);
  const debDir = dirname(request.debPath);
  const file = basename(request.debPath);
  // Each container gets its own copy of the deb: nothing of this machine is mounted.
  const copyDeb: CopyIn = { host: request.debPath, container: `/debs/${file}` };
  const checker: Runner = request.checkerImage
    ? { kind: "container", image: request.checkerImage, copyIn: [copyDeb] }
    : { kind: "host" };
  const debIn = checker.kind === "host" ? request.debPath : copyDeb.container;
  const cwd = checker.kind === "host" ? debDir : "/debs";
  const results: CheckResult[] = [];
  const record = (name: string, problems: string[], output = "") => {
    const ok = problems.length === 0;
    results.push({
      name,
      ok,
      detail: ok ? "" : [...problems, ...(output ? [tail(output)] : [])].join("\n"),
      output: tail(output, 15),
    });
    log(`${ok ? "ok  " : "FAIL"} ${name}`);
  };

  const fieldsRun = await runStep(checker, ["dpkg-deb", "--field", debIn], { cwd });
  record(
    "control fields",
    fieldsRun.status === 0
      ? controlProblems(parseFields(fieldsRun.output), request.expected)
      : ["dpkg-deb --field failed"],
    fieldsRun.status === 0 ? "" : fieldsRun.output,
  );

  const contentsRun = await runStep(checker, ["dpkg-deb", "--contents", debIn], { cwd });
  record(
    "contents: console scripts, config files, unit, directories",
    contentsRun.status === 0 ? contentProblems(parseContents(contentsRun.output)) : ["dpkg-deb --contents failed"],
    contentsRun.status === 0 ? "" : contentsRun.output,
  );

  // The package's lintian-overrides are the commented allow-list; any other error fails.
  const lintian = await runStep(checker, ["lintian", "--no-tag-display-limit", debIn], { cwd });
  const errors = lintian.output.split("\n").filter((line) => line.startsWith("E: "));
  record(
    "lintian (no errors outside debian/ralph-core.lintian-overrides)",
    lintian.status === 0 ? [] : [`${errors.length} lintian error(s):`, ...errors.slice(0, 20)],
    errors.length === 0 ? lintian.output : "",
  );

  const install = await runStep(
    {
      kind: "container",
      image: request.installImage,
      copyIn: [copyDeb],
      asRoot: true,
    },
    ["sh", "-c", INSTALL_SCRIPT],
    { cwd: "/", env: { DEB_FILE: file } },
  );
  record(
    `installs into a clean ${request.installImage} and ralph runs`,
    install.status === 0 && install.output.includes("--- installed") ? [] : [`install test exited ${install.status}`],
    install.output,
  );

  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new DebVerificationError(
      `${file} failed ${failed.length} of ${results.length} verification checks; it will not be published:\n` +
        failed.map((r) => `- ${r.name}:\n${r.detail.replace(/^/gm, "    ")}`).join("\n"),
    );
  }
  return results;
}
