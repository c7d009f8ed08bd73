import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runStep } from "../../../lib/runner";
import { BASE_IMAGE, PROJECT_DIR, useContainerEngine } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

/** What an attacker (or a careless operator) hands the ralph image as its database password. */
const HOSTILE = "pa ss;id>/tmp/pwned;echo 'q' `id` $(id) \\n";

describe("the ralph image's entrypoint writes settings, never runs them", () => {
  beforeAll(useContainerEngine);

  it("a hostile DATABASE_PASSWORD reaches gunicorn as it was given, runs nothing, and database.conf stays 0640 root:ralphsrv", async () => {
    // gunicorn stands in: it reports what it was started with, after the entrypoint sourced the settings.
    const bin = tempDir("ralph-release-entrypoint-");
    writeFileSync(
      join(bin, "gunicorn"),
      [
        "#!/bin/sh",
        `printf 'password=[%s]\\n' "$DATABASE_PASSWORD"`,
        "stat -c 'database.conf %a %U:%G' /etc/ralph/conf.d/database.conf",
        "if [ -e /tmp/pwned ]; then echo pwned; else echo clean; fi",
      ].join("\n") + "\n",
    );
    chmodSync(join(bin, "gunicorn"), 0o755);
    // As ralph-core's postinst leaves it: its own settings, 0640, root and Ralph's group.
    const setup = [
      "groupadd --system ralphsrv",
      "mkdir -p /etc/ralph/conf.d",
      ": > /etc/ralph/ralph.conf",
      "printf 'DATABASE_ENGINE=django.db.backends.mysql\\nDATABASE_PASSWORD=\\n' > /etc/ralph/conf.d/database.conf",
      "chown root:ralphsrv /etc/ralph/conf.d/database.conf",
      "chmod 0640 /etc/ralph/conf.d/database.conf",
      "exec /usr/local/bin/ralph-entrypoint start",
    ].join(" && ");
    const run = await runStep(
      { kind: "host" },
      [
        ...["docker", "run", "--rm", "--entrypoint", "/bin/sh"],
        ...["--volume", `${join(PROJECT_DIR, "docker", "ralph", "entrypoint.sh")}:/usr/local/bin/ralph-entrypoint:ro`],
        ...["--volume", `${bin}:/opt/ralph/ralph-core/bin:ro`],
        ...["--env", `DATABASE_PASSWORD=${HOSTILE}`],
        ...[BASE_IMAGE, "-c", setup],
      ],
      { cwd: "/" },
    );
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain(`password=[${HOSTILE}]`);
    expect(run.output).toContain("database.conf 640 root:ralphsrv");
    expect(run.output).toMatch(/^clean$/m);
  }, 120_000);
});
