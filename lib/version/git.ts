import { execFileSync } from "node:child_process";

/** A git command failed; `stderr` is what git said. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`git ${args.join(" ")} failed: ${stderr.trim() || "no output"}`);
    this.name = "GitError";
  }
}

/** Runs git in `dir` and returns its stdout without the final newline(s). Never goes through a shell. */
export function git(dir: string, ...args: string[]): string {
  return gitWithEnv(dir, {}, ...args);
}

/** {@link git} with extra environment variables (e.g. GIT_INDEX_FILE for a throw-away index). */
export function gitWithEnv(dir: string, extraEnv: Record<string, string>, ...args: string[]): string {
  return runGit(dir, extraEnv, args);
}

/** {@link git} with `input` on stdin (e.g. a tag message that must not pass through a command line). */
export function gitWithInput(dir: string, input: string, ...args: string[]): string {
  return runGit(dir, {}, args, input);
}

function runGit(dir: string, extraEnv: Record<string, string>, args: string[], input?: string): string {
  try {
    return execFileSync("git", args, {
      cwd: dir,
      encoding: "utf8",
      input,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // Users' git config must not change answers (e.g. a pager or colour setting); questions never
      // write into the checkout (git status would otherwise refresh the user's index).
      env: {
        ...process.env,
        GIT_PAGER: "cat",
        LC_ALL: "C",
        GIT_TERMINAL_PROMPT: "0",
        GIT_OPTIONAL_LOCKS: "0",
        ...extraEnv,
      },
    }).trimEnd();
  } catch (error) {
    const stderr = (error as { stderr?: Buffer | string }).stderr ?? String(error);
    throw new GitError(args, stderr.toString());
  }
}

/** Like {@link git} but returns undefined instead of throwing: for questions git answers by exit code. */
export function tryGit(dir: string, ...args: string[]): string | undefined {
  try {
    return git(dir, ...args);
  } catch (error) {
    if (error instanceof GitError) return undefined;
    throw error;
  }
}

/** Non-empty lines of a command's output. */
export function lines(output: string | undefined): string[] {
  return (output ?? "").split("\n").filter((line) => line.length > 0);
}
