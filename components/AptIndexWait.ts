import * as pulumi from "./sdk";
import type { IndexWaitRequest } from "../lib/publish/indexWait";
import { STEP_KINDS } from "../lib/steps/kinds";
import type { MachineRoots } from "../lib/steps/machineRoots";
import { PipelineStep } from "./PipelineStep";

export interface AptIndexWaitArgs {
  /** Apt source base (`deb <baseUrl>/ <release> main`). */
  readonly baseUrl: string;
  readonly release: string;
  readonly packageName: string;
  /** The Debian version that must become installable. */
  readonly version: string;
  readonly deadlineSeconds: number;
  /** The publishing resources this waits for. */
  readonly after: pulumi.Resource[];
  /** Re-run when this changes (the published file's sha256). */
  readonly trigger: pulumi.Input<string>;
  /** Where this run's project is (never compared). */
  readonly roots: MachineRoots;
}

/**
 * Resolves once the repository's apt index lists the version: what a release image build waits for,
 * instead of Ralph's fixed sleep and retries.
 */
export class AptIndexWait extends pulumi.ComponentResource {
  /** The command whose completion means "installable". */
  readonly ready: PipelineStep;

  constructor(name: string, args: AptIndexWaitArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:publish:AptIndexWait", name, {}, opts);
    const request: Omit<IndexWaitRequest, "log"> = {
      baseUrl: args.baseUrl,
      release: args.release,
      packageName: args.packageName,
      version: args.version,
      deadlineMs: args.deadlineSeconds * 1000,
    };
    this.ready = new PipelineStep(
      `${name}-poll`,
      {
        kind: STEP_KINDS.aptIndexWait,
        request,
        triggers: { debSha256: args.trigger },
        roots: args.roots,
      },
      { parent: this, dependsOn: args.after },
    );
    this.registerOutputs({ baseUrl: args.baseUrl, version: args.version });
  }
}
