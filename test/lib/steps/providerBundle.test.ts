import { cpSync, symlinkSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { afterAll, describe, expect, it } from "vitest";
import { packagecloudProvider } from "../../../lib/publish/packagecloudProvider";
import { pipelineStepProvider } from "../../../lib/steps/provider";
import { type ProviderModule, providerBundle } from "../../../lib/steps/providerBundle";
import { PROJECT_DIR } from "../../support/containers";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

// What the provider host calls: both providers are Pulumi dynamic providers (checked by tsc).
const providers: dynamic.ResourceProvider[] = [pipelineStepProvider, packagecloudProvider];

const MODULES: ProviderModule[] = [
  { path: "lib/steps/provider.ts", exportName: "pipelineStepProvider" },
  { path: "lib/publish/packagecloudProvider.ts", exportName: "packagecloudProvider" },
];

describe("a provider's bundle", () => {
  it("is the same text from a clone at another path: state does not change with the machine", () => {
    const clone = join(tempDir("ralph-release-clone-"), "elsewhere");
    cpSync(join(PROJECT_DIR, "lib"), join(clone, "lib"), { recursive: true });
    symlinkSync(join(PROJECT_DIR, "node_modules"), join(clone, "node_modules"));
    for (const module of MODULES) {
      const here = providerBundle(PROJECT_DIR, module);
      expect(providerBundle(clone, module)).toBe(here);
      expect(here).not.toContain(PROJECT_DIR);
      const required = [...here.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
      expect(required.filter((name) => !isBuiltin(name))).toEqual([]);
    }
    expect(providers).toHaveLength(MODULES.length);
  });

  it("refuses an export that is not there, naming it, before any resource is declared", () => {
    expect(() => providerBundle(PROJECT_DIR, { path: "lib/steps/provider.ts", exportName: "nothingHere" })).toThrow(
      /lib\/steps\/provider\.ts exports no provider nothingHere/,
    );
  });
});
