/**
 * What `pulumi up` and `preview` run (Pulumi.yaml `main`): the program, index.ts, once the host of
 * its steps is on its way. Every step is a Node.js dynamic resource, served by a host process that
 * loads all of @pulumi/pulumi (about 0.6 s). The engine starts it when the first step is declared,
 * which is after the program has loaded; asked for first, it starts while the program loads.
 */
import { invoke } from "@pulumi/pulumi/runtime/invoke";

export = async (): Promise<Record<string, unknown>> => {
  // Any invoke of the dynamic provider makes the engine start its host. The host has no functions and
  // answers "unknown function"; that answer is all this asks for.
  invoke("pulumi-nodejs:dynamic:startHost", {}).catch(() => undefined);
  // Loading the program holds the event loop: the request leaves first.
  await new Promise((resolve) => setTimeout(resolve, 25));
  // By name: a stray index.js beside it is not the program.
  return require("./index.ts");
};
