import { resolve } from "node:path";
import * as pulumi from "./sdk";
import { providerBundle, type ProviderModule } from "../lib/steps/providerBundle";

/** The project this program runs from: the provider modules are its files. */
const PROJECT_DIR = resolve(__dirname, "..");

/**
 * A resource served by the engine's Node.js dynamic provider (`pulumi-nodejs:dynamic/<module>:<type>`),
 * as `pulumi.dynamic.Resource` declares one, with its provider bundled from its module
 * (lib/steps/providerBundle) instead of serialised from memory.
 */
export class DynamicResource extends pulumi.CustomResource {
  constructor(
    provider: ProviderModule,
    name: string,
    props: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions | undefined,
    module: string,
    type: string,
  ) {
    super(
      `pulumi-nodejs:dynamic/${module}:${type}`,
      name,
      { ...props, __provider: providerBundle(PROJECT_DIR, provider) },
      opts,
    );
  }
}
