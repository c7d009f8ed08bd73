/**
 * A dynamic provider as the engine's Node.js provider host loads it: one CommonJS module, as text, in
 * each resource's `__provider` input, whose `handler()` returns the provider. Pulumi's own dynamic
 * resources serialise the provider's closures from memory, which loads the whole SDK and walks every
 * function through the inspector (a quarter of a second an evaluation here). Bundling its module
 * with esbuild gives the same self-contained code from the source, in milliseconds: this project's
 * modules inlined, Node built-ins by require, paths named from the project, no secrets.
 */
import { buildSync } from "esbuild";

/** What the provider's methods return, as the provider host reads it (@pulumi/pulumi/dynamic's results). */
export interface DiffResult {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace?: boolean;
}
export interface CreateResult<Outs> {
  id: string;
  outs: Outs;
}
export interface UpdateResult<Outs> {
  outs: Outs;
}
/** No id: what the resource stood for is gone (refresh drops it). */
export interface ReadResult<Props> {
  id?: string;
  props?: Props;
}

export interface ProviderModule {
  /** The provider's module, from the project directory (`lib/steps/provider.ts`). */
  readonly path: string;
  /** The provider object the module exports. */
  readonly exportName: string;
}

const bundles = new Map<string, string>();

/**
 * The module's text: the same for the same sources wherever the project is, so a stack's state does
 * not change with the machine. Built once a process.
 */
export function providerBundle(projectDir: string, provider: ProviderModule): string {
  const key = `${projectDir}\0${provider.path}\0${provider.exportName}`;
  const known = bundles.get(key);
  if (known !== undefined) return known;
  if (!/^[A-Za-z_$][\w$]*$/.test(provider.exportName)) throw new Error(`not an export name: ${provider.exportName}`);
  const result = buildSync({
    entryPoints: [provider.path],
    absWorkingDir: projectDir,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    legalComments: "none",
    logLevel: "silent",
    // Not whatever tsconfig.json esbuild would find above the project: the text is the sources' alone.
    tsconfigRaw: { compilerOptions: { alwaysStrict: true } },
    footer: { js: `module.exports.handler = () => module.exports.${provider.exportName};` },
  });
  const text = result.outputFiles[0].text;
  // Loaded as the provider host loads it: a module whose handler() is the provider.
  const loaded = { exports: {} as { handler?: () => { create?: unknown } | undefined } };
  new Function("module", "exports", "require", text)(loaded, loaded.exports, require);
  if (typeof loaded.exports.handler?.()?.create !== "function") {
    throw new Error(`${provider.path} exports no provider ${provider.exportName}`);
  }
  bundles.set(key, text);
  return text;
}
