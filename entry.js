// What `pulumi up` and `preview` run (Pulumi.yaml `main`, plain JavaScript): the program, index.ts,
// once the host of its steps is on its way, through tsx's CommonJS loader.
//
// - Every step is a Node.js dynamic resource, served by a host process that loads all of
//   @pulumi/pulumi (most of a second). The engine starts it when the first step is declared, which
//   is after the program has loaded; asked for first, it starts while the program loads.
// - tsx (esbuild, its transforms cached on disk) instead of Pulumi's ts-node: ts-node loads the
//   TypeScript compiler (a quarter of a second) and compiles every file anew at each evaluation.
//   Nothing is type-checked at evaluation either way: `npm test` does that.
const { invoke } = require("@pulumi/pulumi/runtime/invoke");

/**
 * Requires a TypeScript module through tsx, with stack traces on its own lines: Pulumi's runtime
 * installs source-map-support, which does not read tsx's inline source maps (it would name lines of
 * the compiled code); Node's own source maps do.
 */
function requireTypeScript(path) {
  Error.prepareStackTrace = undefined;
  process.setSourceMapsEnabled(true);
  require("tsx/cjs");
  return require(path);
}

module.exports = async () => {
  // Any invoke of the dynamic provider makes the engine start its host. The host has no functions and
  // answers "unknown function"; that answer is all this asks for.
  invoke("pulumi-nodejs:dynamic:startHost", {}).catch(() => undefined);
  // Loading the program holds the event loop: the request leaves first.
  await new Promise((resolve) => setTimeout(resolve, 25));
  // By name: a stray index.js beside it is not the program.
  return requireTypeScript("./index.ts");
};
module.exports.requireTypeScript = requireTypeScript;
