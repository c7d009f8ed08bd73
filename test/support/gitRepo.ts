import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Ralph Tester",
  GIT_AUTHOR_EMAIL: "tester@example.invalid",
  GIT_COMMITTER_NAME: "Ralph Tester",
  GIT_COMMITTER_EMAIL: "tester@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

const created: string[] = [];

/** Removes every directory made by {@link tempDir}; call from afterAll. */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tempDir(prefix = "ralph-release-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A throw-away git repository shaped like a Ralph checkout, driven with the real git CLI. */
export class GitRepo {
  private commits = 0;

  constructor(readonly dir: string) {}

  static init(mainBranch = "ng"): GitRepo {
    const repo = new GitRepo(tempDir());
    repo.git("init", "--quiet", `--initial-branch=${mainBranch}`);
    return repo;
  }

  /** Clones `source` with extra `git clone` arguments (e.g. --depth 1, --branch TAG). */
  static clone(source: GitRepo, ...args: string[]): GitRepo {
    const dir = join(tempDir(), "clone");
    execFileSync("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", ...args, `file://${source.dir}`, dir], {
      env: { ...process.env, ...IDENTITY },
    });
    return new GitRepo(dir);
  }

  git(...args: string[]): string {
    return execFileSync("git", args, {
      cwd: this.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...IDENTITY },
    }).trimEnd();
  }

  /** Commits a change to a file; returns the commit id. */
  commit(message = `change ${this.commits + 1}`, file = "src/ralph/__init__.py"): string {
    this.commits += 1;
    this.write(file, `# ${message} (${this.commits})\n`);
    this.git("add", "--all");
    this.git("commit", "--quiet", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  write(file: string, content: string): void {
    const path = join(this.dir, file);
    execFileSync("mkdir", ["-p", join(path, "..")]);
    writeFileSync(path, content);
  }

  /** Annotated tags, as Ralph's release-new-version makes; `lightweight` for the other kind. */
  tag(name: string, options: { lightweight?: boolean; ref?: string } = {}): void {
    const ref = options.ref ?? "HEAD";
    if (options.lightweight) this.git("tag", name, ref);
    else this.git("tag", "--annotate", "-m", `Release ${name}`, name, ref);
  }

  checkout(...args: string[]): void {
    this.git("checkout", "--quiet", ...args);
  }
}
