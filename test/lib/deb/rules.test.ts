import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../lib/config";
import { PROJECT_DIR } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

/** Runs the real debian/rules' override_dh_virtualenv with a dh_virtualenv that records its arguments. */
function dhVirtualenvArguments(pipArgs: string, pipVersion = ""): { args: string[]; dir: string } {
  const dir = tempDir("ralph-release-rules-");
  mkdirSync(join(dir, "debian", "ralph-core", "opt", "ralph", "ralph-core"), { recursive: true });
  cpSync(join(PROJECT_DIR, "debian", "rules"), join(dir, "debian", "rules"));
  writeFileSync(join(dir, "debian", "build-frontend"), "true\n");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "dh_virtualenv"), `#!/bin/sh\nfor arg in "$@"; do echo "$arg"; done > "${dir}/args"\n`);
  chmodSync(join(bin, "dh_virtualenv"), 0o755);
  execFileSync("make", ["-s", "-f", "debian/rules", "override_dh_virtualenv"], {
    cwd: dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, RALPH_PIP_ARGS: pipArgs, RALPH_PIP_VERSION: pipVersion },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { args: readFileSync(join(dir, "args"), "utf8").trimEnd().split("\n"), dir };
}

describe("pipArgs reach pip as arguments, never as shell", () => {
  it("debian/rules passes each argument as it is: a `;` in one runs nothing", () => {
    const { args, dir } = dhVirtualenvArguments("--no-index;id>PWNED --find-links=/wheels");
    expect(args.slice(-2)).toEqual(["--extra-pip-arg=--no-index;id>PWNED", "--extra-pip-arg=--find-links=/wheels"]);
    expect(existsSync(join(dir, "PWNED"))).toBe(false);
  });

  it("a pip pin (the checkout's --upgrade-pip-to) reaches dh_virtualenv; none leaves the venv's pip alone", () => {
    const pinned = dhVirtualenvArguments("", "19.3.1").args;
    expect(pinned.slice(pinned.indexOf("--upgrade-pip-to"), pinned.indexOf("--upgrade-pip-to") + 2)).toEqual([
      "--upgrade-pip-to",
      "19.3.1",
    ]);
    expect(dhVirtualenvArguments("").args).not.toContain("--upgrade-pip-to");
  });

  it("the configuration refuses it before anything is built, naming the argument; a URL with a token, without the token", () => {
    const config = (pipArgs: string) => ({
      stack: "snapshot",
      projectDir: PROJECT_DIR,
      values: { "ralph-release:source": tempDir(), "ralph-release:pipArgs": pipArgs },
      secretKeys: new Set<string>(),
    });
    const problem = (pipArgs: string) => {
      try {
        parseConfig(config(pipArgs));
      } catch (error) {
        if (error instanceof ConfigError) return error.problems.find((p) => p.key === "ralph-release:pipArgs")?.problem;
        throw error;
      }
      return undefined;
    };
    expect(problem("--no-index;id>/tmp/x")).toBe(
      'has the argument "--no-index;id>/tmp/x", which is not a pip option or value (letters, digits and . _ ~ : / % + , = @ - only; no quotes, spaces or shell characters such as ; | & > < $ ` ( ) *)',
    );
    expect(problem("--index-url=https://user:tok3n-4711@pypi.example/simple")).toMatch(
      /^names a user or password in https:\/\/\*\*\*@pypi\.example\/simple: it would be stored in plain text/,
    );
    expect(problem("--index-url=https://user:tok3n-4711@pypi.example/simple")).not.toContain("tok3n");
    for (const fine of [
      "--no-index --find-links=/wheels",
      "--use-deprecated=legacy-resolver",
      "--only-binary=:all: --index-url=https://pypi.example/simple",
      "--find-links /wheels --no-build-isolation",
    ])
      expect([fine, problem(fine)]).toEqual([fine, undefined]);
  });
});
