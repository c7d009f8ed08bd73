/**
 * The parts of @pulumi/pulumi the program uses, each from the module that defines it. The package's
 * index also loads the Automation API and, through it, npm's Arborist: a quarter of a second of every
 * evaluation, for code a program never calls (an empty program does not import the SDK at all).
 * Import this as `pulumi` in the program's files; tests and the CLI may use the package itself.
 */
export { all, type Input, type Inputs, Output, output, secret, unknown, type Unwrap } from "@pulumi/pulumi/output";
export {
  type Alias,
  ComponentResource,
  type ComponentResourceOptions,
  CustomResource,
  type CustomResourceOptions,
  Resource,
} from "@pulumi/pulumi/resource";
export { RunError } from "@pulumi/pulumi/errors";
export { getOrganization, getProject, getStack } from "@pulumi/pulumi/metadata";
export * as log from "@pulumi/pulumi/log";

import { allConfig } from "@pulumi/pulumi/runtime/config";
import { getMonitor, isDryRun } from "@pulumi/pulumi/runtime/settings";

export const runtime = { allConfig, getMonitor, isDryRun };
