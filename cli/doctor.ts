/** `npm run doctor [-- <snapshot|release>] [--source DIR] [--set key=value]...`: see cli/doctorChecks.ts. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { MODES } from "../lib/config";
import { isUserFacing, UserError } from "../lib/errors";
import { type CheckScope, renderChecks, runChecks } from "./doctorChecks";
import { stackSettings } from "./stackConfig";

const USAGE = `usage: npm run doctor [-- <snapshot|release>] [--source DIR] [--set key=value]...

Checks everything \`npm run release -- <stack> up\` needs on this machine, for the stack's settings
(Pulumi.<stack>.yaml, CI's environment variables, --source/--set): one line per check, and the fix
for each that fails. Exit 0 when up can start. The stack defaults to snapshot.`;

const PROJECT_DIR = resolve(__dirname, "..");

/** The checks for one stack, as `npm run release` and `npm run doctor` run them; exit 0 when none fails. */
export async function doctor(
  stack: string,
  options: { source?: string; set: readonly string[]; cwd: string; env: NodeJS.ProcessEnv; scope: CheckScope },
) {
  const settings = stackSettings({ ...options, stack, projectDir: PROJECT_DIR, secretPlaceholder: "<secret>" });
  const checks = await runChecks({ stack, projectDir: PROJECT_DIR, settings, env: options.env, scope: options.scope });
  return { checks, passed: checks.every((c) => c.status !== "fail"), text: renderChecks(checks) };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      source: { type: "string" },
      set: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [stack = "snapshot", ...extra] = positionals;
  if (!(MODES as readonly string[]).includes(stack) || extra.length > 0) throw new UserError(USAGE);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const result = await doctor(stack, {
    source: values.source,
    set: values.set ?? [],
    cwd,
    env: process.env,
    scope: "up",
  });
  const failed = result.checks.filter((c) => c.status === "fail").length;
  process.stdout.write(`ralph-release doctor: stack ${stack}\n${result.text}\n`);
  process.stdout.write(
    failed === 0
      ? `ready: npm run release -- ${stack} up can start\n`
      : `${failed} to fix before npm run release -- ${stack} up\n`,
  );
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      const known = isUserFacing(error);
      process.stderr.write(`ralph-release doctor: ${known ? error.message : error.stack}\n`);
      process.exitCode = 2;
    },
  );
}
