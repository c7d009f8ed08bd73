/** `npm run release -- <stack> [operation]`: see cli/releaseCli.ts. */
import { UserError } from "../lib/errors";
import { doctor } from "./doctor";
import { parseReleaseArgs, RELEASE_USAGE, runRelease } from "./releaseCli";
import { AutomationWorkspace } from "./automation";

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${RELEASE_USAGE}\n`);
    return 0;
  }
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const request = parseReleaseArgs(argv, process.env, cwd);
  return runRelease(request, new AutomationWorkspace(), {
    progress: (line) => process.stderr.write(`${line}\n`),
    result: (text) => process.stdout.write(`${text}\n`),
    preflight: (operation) =>
      doctor(request.mode, {
        source: request.source,
        set: request.set,
        cwd,
        env: process.env,
        scope: operation === "up" ? "up" : operation === "preview" ? "program" : "cli",
      }),
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      process.stderr.write(`ralph-release: ${error instanceof UserError ? error.message : error.stack}\n`);
      process.exitCode = 2;
    },
  );
}
