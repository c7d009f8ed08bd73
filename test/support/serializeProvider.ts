/**
 * Serialises a dynamic provider the way `pulumi up` did before providers were bundled, and so the
 * way stacks written then hold each step's code: in a plain Node process where TypeScript is
 * compiled to CommonJS, through the SDK's closure serialiser.
 * Usage: tsx test/support/serializeProvider.ts <module> <export> <out.js>
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";

async function main() {
  const [modulePath, exportName, out] = process.argv.slice(2);
  const provider = require(resolve(modulePath))[exportName];
  const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  writeFileSync(out, serialized.text);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
