import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { AutomationWorkspace, pulumiEnvironment } from "../../cli/automation";
import { removeTempDirs, tempDir } from "../support/gitRepo";
import { PROJECT_DIR } from "../support/containers";

afterAll(removeTempDirs);

const run = promisify(execFile);

/**
 * This machine's PATH without any directory that holds a `pulumi` (the README has users put
 * .tools/bin there), node and npm kept through links of their own.
 */
function pathWithoutPulumi(): string {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const npm = dirs.map((dir) => join(dir, "npm")).find((path) => existsSync(path)) ?? expect.fail("npm is not on PATH");
  const tools = tempDir("ralph-release-no-pulumi-");
  symlinkSync(process.execPath, join(tools, "node"));
  symlinkSync(realpathSync(npm), join(tools, "npm"));
  return [tools, ...dirs.filter((dir) => !existsSync(join(dir, "pulumi")))].join(delimiter);
}

describe("npm run release", () => {
  it("without a pulumi CLI: refused before anything starts, exit 2, with the fix", async () => {
    const PATH = pathWithoutPulumi();
    const failure = await run(
      "npm",
      ["run", "--silent", "release", "--", "snapshot", "preview", "--json", "--branch", "ng"],
      {
        cwd: PROJECT_DIR,
        env: { PATH, HOME: process.env.HOME },
      },
    ).then(
      () => expect.fail("release succeeded without a pulumi CLI"),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure.code).toBe(2);
    expect(JSON.parse(failure.stdout)).toMatchObject({
      stack: "snapshot-ng",
      operation: "preview",
      result: "refused",
      message: expect.stringContaining("this machine is not ready for preview"),
    });
    expect(failure.stderr).toMatch(/✗ pulumi CLI +not on PATH\n +fix: install it .*npm run engine/);
  });
});

describe("pulumiEnvironment", () => {
  it("a local release stack needs a passphrase; a local snapshot stack gets an empty one while it holds no secret", () => {
    expect(() => pulumiEnvironment("release", {})).toThrow(/set PULUMI_CONFIG_PASSPHRASE/);
    expect(pulumiEnvironment("release", { PULUMI_CONFIG_PASSPHRASE: "s3cret" })).toEqual({});
    expect(pulumiEnvironment("snapshot", {})).toEqual({ PULUMI_CONFIG_PASSPHRASE: "" });
    expect(() => pulumiEnvironment("snapshot", {}, ["registryPassword"])).toThrow(
      /would hold registryPassword as a secret, and a local snapshot stack's passphrase is empty/,
    );
    expect(pulumiEnvironment("snapshot", { PULUMI_CONFIG_PASSPHRASE: "s3cret" }, ["registryPassword"])).toEqual({});
    // An empty one (Pulumi's own advice for local use; an unset CI secret) is none.
    expect(() => pulumiEnvironment("snapshot", { PULUMI_CONFIG_PASSPHRASE: "" }, ["registryPassword"])).toThrow(
      /passphrase is empty/,
    );
    expect(() => pulumiEnvironment("release", { PULUMI_CONFIG_PASSPHRASE: "" })).toThrow(
      /set PULUMI_CONFIG_PASSPHRASE/,
    );
    // Pulumi Cloud keeps the secrets itself.
    expect(pulumiEnvironment("release", { PULUMI_BACKEND_URL: "https://api.pulumi.com" })).toEqual({});
  });
});

describe("AutomationWorkspace", () => {
  it("sets plain config through the Automation API and secrets on the pulumi CLI's stdin, never its arguments", async () => {
    const bin = tempDir("ralph-release-fake-pulumi-");
    const log = join(bin, "calls.log");
    // Stands in for the pulumi CLI (which cannot be installed here) to record what it is asked.
    writeFileSync(
      join(bin, "pulumi"),
      [
        "#!/bin/sh",
        `printf 'ARGS %s\\n' "$*" >> ${log}`,
        'if [ "$1" = version ]; then echo v3.200.0; fi',
        `if [ "$1 $2" = "config set" ]; then printf 'STDIN %s\\n' "$(cat)" >> ${log}; fi`,
        "exit 0",
      ].join("\n"),
      { mode: 0o755 },
    );
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const workspace = new AutomationWorkspace({ PATH: process.env.PATH, PULUMI_CONFIG_PASSPHRASE: "p" });
      await workspace.selectStack("release");
      await workspace.setConfig({
        packagecloudToken: { value: "pc-secret-4711", secret: true },
        imageNamespace: { value: "my-org", secret: false },
      });
    } finally {
      process.env.PATH = path;
    }
    const calls = readFileSync(log, "utf8");
    expect(
      calls
        .split("\n")
        .filter((l) => l.startsWith("ARGS"))
        .join("\n"),
    ).not.toContain("pc-secret-4711");
    expect(calls).toContain("--plaintext ralph-release:imageNamespace=my-org");
    expect(calls).toMatch(
      /ARGS config set --secret --stack release ralph-release:packagecloudToken --non-interactive\nSTDIN pc-secret-4711\n/,
    );
  });
});
