import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARCHITECTURE, dockerArchitecture, PLATFORM } from "../../lib/platform";
import { PROJECT_DIR } from "../support/containers";

describe("the platform", () => {
  it("is the control file's Architecture: what the containers run as is what the deb says it is", () => {
    const control = readFileSync(join(PROJECT_DIR, "debian", "control.in"), "utf8");
    expect(/^Architecture: (\S+)$/m.exec(control)?.[1]).toBe(ARCHITECTURE);
    expect(PLATFORM).toBe("linux/amd64");
  });

  it("reads an engine's architecture in Docker's words", () => {
    expect(dockerArchitecture("amd64")).toBe("amd64");
    expect(dockerArchitecture("x86_64")).toBe("amd64");
    expect(dockerArchitecture("aarch64")).toBe("arm64");
    expect(dockerArchitecture("arm64")).toBe("arm64");
  });
});
