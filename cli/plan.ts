/**
 * `npm run plan -- <stack>`: runs the real program (index.ts) under the Pulumi SDK's mock runtime and
 * prints what the stack would produce, in which order. No Pulumi CLI, no credentials, no network:
 * fit for pull requests from forks.
 */
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, isSecretKey, KEYS, PLAN_PLACEHOLDERS, PROJECT, parseConfig } from "../lib/config";
import { isUserFacing, UserError } from "../lib/errors";
import { CI_VARIABLES } from "../lib/github/environment";
import { type Plan, type PlannedResource, renderPlan } from "./planReport";
import { useMockStack } from "./mockStack";
import { rawConfig, type StackSettings, stackSettings } from "./stackConfig";

const USAGE = `usage: npm run plan -- <snapshot|release> [--source DIR] [--set key=value]... [--json]

Runs the program offline under mock providers and prints the version, deb, images and tags, publish
targets, GitHub release and the order of the steps. Settings: Pulumi.<stack>.yaml, then CI's
environment variables (${CI_VARIABLES.map((v) => v.env).join(", ")}), then --source/--set.
Credentials that are not set are filled in for the plan and listed.`;

const PROJECT_DIR = resolve(__dirname, "..");
const [SECRET_SET, NOT_SET] = PLAN_PLACEHOLDERS;

/** Registrations as the engine would see them: type, name, parent, what each waits for. */
function recordRegistrations(): PlannedResource[] {
  const recorded: PlannedResource[] = [];
  const inputs = new Map<string, Record<string, unknown>>();
  const key = (type: string, name: string) => `${type}::${name}`;
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(
      req: RegisterRequest,
      callback: (error: Error | null, response?: { getUrn(): string }) => void,
    ): void;
    mocks: { newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> };
  };
  const newResource = monitor.mocks.newResource.bind(monitor.mocks);
  monitor.mocks.newResource = async (args) => {
    inputs.set(key(args.type, args.name), args.inputs);
    return newResource(args);
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (error, response) => {
      if (!error && response) {
        recorded.push({
          urn: response.getUrn(),
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          parentUrn: req.getParent() || undefined,
          dependencies: req.getDependenciesList(),
          retainOnDelete: req.getRetainondelete() === true,
          importId: req.getImportid() || undefined,
          inputs: inputs.get(key(req.getType(), req.getName())) ?? {},
        });
      }
      callback(error, response);
    });
  return recorded;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getDependenciesList(): string[];
  getRetainondelete(): boolean | undefined;
  getImportid(): string;
}

/** Credentials (what CI stores, and every secret) the configuration reports missing. */
function missingCredentials(stack: string, settings: StackSettings): string[] {
  const credentials = new Set<string>([
    ...CI_VARIABLES.filter((v) => v.stored).map((v) => v.key),
    ...Object.keys(KEYS).filter(isSecretKey),
  ]);
  try {
    parseConfig(rawConfig(stack, PROJECT_DIR, settings));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const keys = error.problems.map((p) => p.key.slice(PROJECT.length + 1));
    return [...new Set(keys)].filter((key) => credentials.has(key) && settings.values[key] === undefined);
  }
}

export interface PlanRequest {
  readonly stack: string;
  readonly source?: string;
  readonly set: readonly string[];
  /** Where a relative --source is resolved from. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

export async function planStack(request: PlanRequest): Promise<Plan> {
  const settings = stackSettings({ ...request, projectDir: PROJECT_DIR, secretPlaceholder: SECRET_SET });
  // The plan needs to know a secret is set, never its value: it prints inputs (--json) and keeps none.
  for (const key of settings.secretKeys) settings.values[key] = SECRET_SET;
  // Credentials CI would hand in are absent here (a fork's PR has none): stand in for the ones the
  // configuration asks for, and say so. Every other problem is the plan's to report.
  const standIns = missingCredentials(request.stack, settings);
  for (const key of standIns) {
    settings.values[key] = NOT_SET;
    if (isSecretKey(key)) settings.secretKeys.add(key);
  }

  await useMockStack(request.stack, settings.values, settings.secretKeys, {
    debSha256: "<sha256 of the build>",
    imageId: (name) => `sha256:<id of ${name}>`,
    registryDigest: "sha256:<digest at push>",
  });
  const recorded = recordRegistrations();
  process.chdir(PROJECT_DIR);
  const program = require("../index") as Record<string, pulumi.Output<unknown>>;
  // The program's outputs are all Outputs (index.ts exports nothing else).
  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(program)) {
    outputs[name] = await new Promise((done) => output.apply((value) => done(value)));
  }
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return { stack: request.stack, outputs, resources: recorded, standIns };
}

async function main(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      source: { type: "string" },
      set: { type: "string", multiple: true },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return USAGE;
  if (positionals.length !== 1) throw new UserError(USAGE);
  const [stack] = positionals;
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const plan = await planStack({ stack, source: values.source, set: values.set ?? [], cwd, env: process.env });
  if (values.json) return JSON.stringify(plan, null, 2);
  return renderPlan(plan, (path) => {
    const inside = relative(PROJECT_DIR, path);
    return inside.startsWith("..") ? path : `${inside}${path.endsWith("/") ? "/" : ""}`;
  }).trimEnd();
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (output) => process.stdout.write(`${output}\n`),
    (error: Error) => {
      const known = isUserFacing(error) || error instanceof pulumi.RunError;
      process.stderr.write(`ralph-release plan: ${known ? error.message : error.stack}\n`);
      process.exitCode = 1;
    },
  );
}
