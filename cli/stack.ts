/**
 * `npm run up`, `npm run preview`, `npm run up:release`: the Pulumi CLI's own display on one stack,
 * with the release CLI's backend and passphrase rules, so that a local snapshot stack never stops
 * at a passphrase prompt and a release stack without one is refused with the fix.
 */
import { spawnSync } from "node:child_process";
import { UserError } from "../lib/errors";
import { PROJECT_DIR, pulumiEnvironment } from "./automation";
import { readStackFile } from "./stackConfig";

function main([stack, ...args]: string[]): number {
  if (!stack || args.length === 0) throw new UserError("usage: tsx cli/stack.ts <stack> <pulumi command>...");
  const held = [...readStackFile(PROJECT_DIR, stack, "").secretKeys];
  const env = { ...process.env, ...pulumiEnvironment(stack, process.env, held) };
  const run = (argv: string[]) => {
    const result = spawnSync("pulumi", argv, { cwd: PROJECT_DIR, env, stdio: "inherit" });
    if (result.error) {
      throw new UserError(
        `the pulumi CLI could not be run (${result.error.message}): npm run doctor -- ${stack} says what is missing.`,
      );
    }
    return result.status ?? 1;
  };
  const selected = run(["stack", "select", "--create", stack]);
  return selected === 0 ? run([...args, "--stack", stack]) : selected;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`ralph-release: ${error instanceof UserError ? error.message : (error as Error).stack}\n`);
  process.exitCode = 2;
}
