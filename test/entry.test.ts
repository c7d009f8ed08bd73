import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "./support/containers";
import { removeTempDirs, tempDir } from "./support/gitRepo";

afterAll(removeTempDirs);

describe("entry.js, what pulumi runs", () => {
  it("loads TypeScript whose errors name its own lines, under the source-map-support Pulumi's runtime installs", () => {
    const program = join(tempDir("ralph-release-program-"), "boom.ts");
    // The type lines compile to nothing: a compiled line number is not the file's.
    writeFileSync(
      program,
      [
        "type Reason = { why: string };",
        "const reason: Reason = { why: 'boom' };",
        "export function boom(): never {",
        "  throw new Error(reason.why);",
        "}",
        "",
      ].join("\n"),
    );
    const stack = execFileSync(
      process.execPath,
      [
        "--require",
        "source-map-support/register",
        "-e",
        `try { require("./entry.js").requireTypeScript(${JSON.stringify(program)}).boom(); } catch (e) { console.log(e.stack); }`,
      ],
      { cwd: PROJECT_DIR, encoding: "utf8" },
    );
    expect(stack).toContain("Error: boom");
    expect(stack).toContain(`${program}:4:9`);
  });
});
