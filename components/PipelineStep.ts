import * as pulumi from "./sdk";
import { DynamicResource } from "./DynamicResource";
import { LEGACY_STEP_TYPE, type StepKind, stepCommandLine } from "../lib/steps/kinds";
import { type MachineRoots, tokenizePaths } from "../lib/steps/machineRoots";

export interface PipelineStepArgs {
  /** What the step is (lib/steps/kinds): its type token and the CLI command it runs. */
  readonly kind: StepKind;
  /** The step's JSON request; paths under a machine root are stored from the root (`{project}/…`). */
  readonly request: pulumi.Input<unknown>;
  /**
   * What the step's result is made of, by name: any change runs the step again as a replacement,
   * and `pulumi preview --diff` names the field that changed.
   */
  readonly triggers?: Record<string, pulumi.Input<string>>;
  /** Where this run's roots are: never compared, so another clone or checkout path changes nothing. */
  readonly roots: MachineRoots;
  /**
   * Environment the command needs that is no reason to run it again (a password). Stored as a
   * secret; never compared.
   */
  readonly runtimeEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One step of the pipeline that runs on this machine: this project's CLI with a JSON request. A
 * dynamic resource, so a step needs nothing but the Pulumi CLI and Node: no provider plugin to fetch.
 * Each kind its own type (`pulumi-nodejs:dynamic/deb:Build`, …), aliased from the single type that
 * every step had before.
 */
export class PipelineStep extends DynamicResource {
  /** What the command printed on stdout (the step's JSON result). */
  declare readonly stdout: pulumi.Output<string>;

  constructor(name: string, args: PipelineStepArgs, opts?: pulumi.CustomResourceOptions) {
    const { kind, roots } = args;
    const runtimeEnvironment = args.runtimeEnvironment && pulumi.secret(args.runtimeEnvironment);
    const triggers = args.triggers && pulumi.output(args.triggers).apply((t) => tokenizePaths(t, roots));
    super(
      { path: "lib/steps/provider.ts", exportName: "pipelineStepProvider" },
      name,
      {
        create: stepCommandLine(kind),
        variable: kind.variable,
        request: (pulumi.output(args.request) as pulumi.Output<unknown>).apply((r) => tokenizePaths(r, roots)),
        triggers,
        legacyTriggers: [...kind.legacyTriggers],
        machine: { roots },
        runtimeEnvironment,
        stdout: undefined,
      },
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), { type: LEGACY_STEP_TYPE }],
        additionalSecretOutputs: ["runtimeEnvironment", ...(opts?.additionalSecretOutputs ?? [])],
      },
      kind.module,
      kind.type,
    );
  }

  /**
   * The step's JSON result. Unknown where the step neither ran nor has state (`pulumi up --target`
   * of another step): what consumes it is left out too, as in a preview, instead of failing.
   */
  result<T>(): pulumi.Output<T> {
    return this.stdout.apply((stdout) => (stdout ? JSON.parse(stdout) : pulumi.unknown) as T);
  }
}
