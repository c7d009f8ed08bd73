/**
 * A small Python project shaped like Ralph: src layout, the four console scripts and the entry-point
 * groups Ralph declares, requirements/prod.txt and the contrib/common files the recipes install.
 * Builds offline (setuptools only).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONSOLE_SCRIPTS } from "../../lib/deb/verify";
import { GitRepo } from "./gitRepo";

export interface FixtureOptions {
  /** Leave one console script out, to break the package on purpose. */
  readonly withoutScript?: "ralph" | "dev_ralph" | "test_ralph" | "validate_ralph";
}

export function writeRalphFixture(repo: GitRepo, options: FixtureOptions = {}): void {
  const scripts = CONSOLE_SCRIPTS.filter((s) => s !== options.withoutScript)
    .map(
      (script) =>
        `            "${script} = ralph.__main__:${script === "ralph" ? "prod" : script.replace("_ralph", "")}",`,
    )
    .join("\n");
  repo.write(
    "setup.py",
    `from setuptools import find_packages, setup

setup(
    name="ralph",
    version="3.0.0",
    package_dir={"": "src"},
    packages=find_packages("src"),
    entry_points={
        "console_scripts": [
${scripts}
        ],
        "back_office.transition_action.email_context": [
            "default = ralph.lib.transitions.email:get_email_context_for_transition",
        ],
        "account.views": [
            "user_info = ralph.accounts.views:UserInfo",
        ],
    },
)
`,
  );
  repo.write("src/ralph/__init__.py", '__version__ = "3.0.0"\n');
  repo.write(
    "src/ralph/__main__.py",
    `import os
import sys

from ralph import __version__


def _run(kind):
    args = sys.argv[1:]
    if args[:1] == ["--version"]:
        print("ralph", __version__)
    elif args[:1] == ["collectstatic"]:
        static_root = os.environ.get("STATIC_ROOT", "/usr/share/ralph/static")
        with open(os.path.join(static_root, "ralph.css"), "w") as handle:
            handle.write("body {}\\n")
        print("1 static file copied to", static_root)
    else:
        print("Ralph fixture", kind, " ".join(args))


def prod():
    _run("prod")


def dev():
    _run("dev")


def test():
    _run("test")


def validate():
    _run("validate")
`,
  );
  repo.write("requirements/prod.txt", "# Ralph's runtime requirements; the fixture needs none.\n");
  repo.write(
    "contrib/common/etc/ralph/ralph.conf",
    "DJANGO_SETTINGS_MODULE=ralph.settings.prod\nSTATIC_ROOT=/usr/share/ralph/static\nLOG_FILEPATH=/var/log/ralph/ralph.log\n",
  );
  repo.write("contrib/common/etc/ralph/conf.d/cache.conf", "RALPH_CACHE_BACKEND=redis\n");
  repo.write("contrib/common/etc/ralph/conf.d/gunicorn.conf", "GUNICORN_USER=ralphsrv\nGUNICORN_WORKERS=4\n");
  repo.write("contrib/common/etc/ralph/conf.d/redis.conf", "REDIS_HOST=127.0.0.1\nREDIS_PORT=6379\n");
  repo.write("contrib/common/gunicorn/gunicorn.ini", "[server:main]\nbind = 127.0.0.1:8000\n");
  repo.write(
    "contrib/common/usr/bin/ralphctl",
    `#!/bin/bash
set -aue
source /etc/ralph/ralph.conf
for conf in /etc/ralph/conf.d/*.conf; do source "$conf"; done
exec /opt/ralph/ralph-core/bin/ralph "$@"
`,
  );
  repo.git("add", "--all");
  repo.git("update-index", "--chmod=+x", "contrib/common/usr/bin/ralphctl");
  repo.write(
    "contrib/common/systemd/ralph.service",
    `[Unit]
Description=Ralph
After=network.target

[Service]
User=ralphsrv
EnvironmentFile=/etc/ralph/ralph.conf
ExecStart=/opt/ralph/ralph-core/bin/gunicorn --config /var/local/ralph/gunicorn.ini ralph.wsgi

[Install]
WantedBy=multi-user.target
`,
  );
}

/** A committed, tagged fixture checkout on `ng`. */
export function ralphFixtureRepo(options: FixtureOptions = {}): GitRepo {
  const repo = GitRepo.init();
  repo.commit("initial");
  writeRalphFixture(repo, options);
  repo.git("add", "--all");
  repo.git("commit", "--quiet", "-m", "Ralph-shaped fixture");
  repo.tag("20241120.1");
  repo.commit("Fix the importer", "src/ralph/importer.py");
  repo.commit("Add a DC view", "src/ralph/dc_view.py");
  repo.tag("20241124.1");
  return repo;
}

/**
 * Gives the fixture a front end shaped like Ralph's: package.json whose gulp (a local stand-in, so npm
 * needs no registry) runs gulpfile.js, which writes a stylesheet under src/ralph/static/ that the
 * package then carries. With `lockfile`, a package-lock.json (npm ci); with `bower`, bower from npm's
 * registry and a bower.json whose git source (GitHub) cannot be reached from here.
 */
export function addFrontEnd(repo: GitRepo, options: { lockfile?: boolean; bower?: boolean } = {}): void {
  repo.write(
    "package.json",
    `${JSON.stringify({ name: "ralph", version: "3.0.0", private: true, devDependencies: { gulp: "file:tools/gulp", ...(options.bower ? { bower: "1.8.14" } : {}) } }, null, 2)}\n`,
  );
  repo.write(
    "tools/gulp/package.json",
    `${JSON.stringify({ name: "gulp", version: "0.0.0", bin: { gulp: "cli.js" } }, null, 2)}\n`,
  );
  repo.write("tools/gulp/cli.js", `#!/usr/bin/env node\nrequire(require("path").resolve("gulpfile.js"));\n`);
  repo.write(
    "gulpfile.js",
    `const fs = require("fs");
fs.mkdirSync("src/ralph/static/css", { recursive: true });
fs.writeFileSync("src/ralph/static/css/ralph.css", "/* built by gulp */\\n");
console.log("gulp: wrote src/ralph/static/css/ralph.css");
`,
  );
  repo.write("MANIFEST.in", "recursive-include src/ralph/static *\n");
  const setup = readFileSync(join(repo.dir, "setup.py"), "utf8");
  repo.write(
    "setup.py",
    setup.replace('packages=find_packages("src"),', 'packages=find_packages("src"),\n    include_package_data=True,'),
  );
  if (options.bower) {
    repo.write(
      "bower.json",
      `${JSON.stringify({ name: "ralph", dependencies: { "iron-ajax": "PolymerElements/iron-ajax#1.1.x" } }, null, 2)}\n`,
    );
  }
  if (options.lockfile) {
    execFileSync("npm", ["install", "--package-lock-only", "--offline", "--no-audit", "--no-fund"], {
      cwd: repo.dir,
      stdio: "ignore",
    });
  }
  repo.git("add", "--all");
  repo.git("update-index", "--chmod=+x", "tools/gulp/cli.js");
  repo.git("commit", "--quiet", "-m", "Front end");
}
