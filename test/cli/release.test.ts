import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { pulumiEnvironment } from "../../cli/automation";
import { PROJECT_DIR } from "../support/containers";

const run = promisify(execFile);
const hasPulumi = (() => {
  try {
    execFileSync("pulumi", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("npm run release", () => {
  it.skipIf(hasPulumi)("without a pulumi CLI: exit 1, the fix, and the offline alternative", async () => {
    const failure = await run("npm", ["run", "--silent", "release", "--", "snapshot", "preview", "--json"], {
      cwd: PROJECT_DIR,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    }).then(
      () => expect.fail("release succeeded without a pulumi CLI"),
      (error: { code: number; stdout: string }) => error,
    );
    expect(failure.code).toBe(1);
    expect(JSON.parse(failure.stdout)).toMatchObject({
      stack: "snapshot",
      operation: "preview",
      result: "failed",
      message: expect.stringMatching(
        /the pulumi CLI was not found on PATH\. Install it .*`npm run plan` works without it/,
      ),
    });
  });
});

describe("pulumiEnvironment", () => {
  it("a local release stack needs a passphrase; a local snapshot stack gets an empty one", () => {
    expect(() => pulumiEnvironment("release", {})).toThrow(/set PULUMI_CONFIG_PASSPHRASE/);
    expect(pulumiEnvironment("release", { PULUMI_CONFIG_PASSPHRASE: "s3cret" })).toEqual({});
    expect(pulumiEnvironment("snapshot", {})).toEqual({ PULUMI_CONFIG_PASSPHRASE: "" });
    // Pulumi Cloud keeps the secrets itself.
    expect(pulumiEnvironment("release", { PULUMI_BACKEND_URL: "https://api.pulumi.com" })).toEqual({});
  });
});
