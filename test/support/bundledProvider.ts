/**
 * A provider as the engine's Node.js provider host runs it: its module bundled as `pulumi up` bundles
 * it (lib/steps/providerBundle), written out and loaded back in a fresh module with nothing of the
 * test's module graph.
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { type ProviderModule, providerBundle } from "../../lib/steps/providerBundle";
import { PROJECT_DIR } from "./containers";
import { tempDir } from "./gitRepo";

export function bundledProvider(module: ProviderModule): {
  provider: Required<dynamic.ResourceProvider>;
  text: string;
} {
  const text = providerBundle(PROJECT_DIR, module);
  const file = join(tempDir("ralph-release-provider-"), "provider.js");
  writeFileSync(file, text);
  const loaded = createRequire(file)(file) as { handler: () => Required<dynamic.ResourceProvider> };
  return { provider: loaded.handler(), text };
}
