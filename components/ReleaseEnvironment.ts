import type * as github from "@pulumi/github";
import * as pulumi from "./sdk";
import { RELEASE_TAG_PATTERN } from "../lib/github/environment";
import { splitRepository } from "../lib/github/release";

/**
 * @pulumi/github, loaded by the stacks that declare GitHub resources only: it imports the whole of
 * @pulumi/pulumi (components/sdk says what that costs every other stack).
 */
export const loadGithub = (): typeof github => require("@pulumi/github");

export interface ReleaseEnvironmentArgs {
  /** `owner/repo` the publish workflow runs in. */
  readonly repository: string;
  /** Environment name (config `githubEnvironment`). */
  readonly environment: string;
  /** Plain variables, by name (e.g. REGISTRY_USERNAME, PULUMI_BACKEND_URL). */
  readonly variables: Readonly<Record<string, pulumi.Input<string>>>;
  /** Secrets, by name, as Pulumi secrets: GitHub encrypts them; state keeps them encrypted. */
  readonly secrets: Readonly<Record<string, pulumi.Output<string>>>;
  readonly provider: github.Provider;
}

/**
 * The GitHub environment the publish workflow runs in: only release tags may deploy to it, and it
 * holds what `up` of the release stack needs. Retained on destroy so a running workflow keeps working.
 */
export class ReleaseEnvironment extends pulumi.ComponentResource {
  /** The environment's name, once it exists. */
  readonly name: pulumi.Output<string>;
  /** Names of the secrets and variables stored (never their values). */
  readonly stored: pulumi.Output<string[]>;

  constructor(name: string, args: ReleaseEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ralph:github:ReleaseEnvironment", name, {}, opts);
    const github = loadGithub();
    const repository = splitRepository(args.repository).name;
    const childOpts = { parent: this, provider: args.provider, retainOnDelete: true };
    const environment = new github.RepositoryEnvironment(
      name,
      {
        repository,
        environment: args.environment,
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      },
      childOpts,
    );
    const inEnvironment = { ...childOpts, dependsOn: [environment] };
    new github.RepositoryEnvironmentDeploymentPolicy(
      `${name}-release-tags`,
      { repository, environment: environment.environment, tagPattern: RELEASE_TAG_PATTERN },
      inEnvironment,
    );
    for (const [variableName, value] of Object.entries(args.variables)) {
      new github.ActionsEnvironmentVariable(
        `${name}-${variableName}`,
        { repository, environment: environment.environment, variableName, value },
        inEnvironment,
      );
    }
    for (const [secretName, value] of Object.entries(args.secrets)) {
      new github.ActionsEnvironmentSecret(
        `${name}-${secretName}`,
        { repository, environment: environment.environment, secretName, plaintextValue: pulumi.secret(value) },
        { ...inEnvironment, additionalSecretOutputs: ["plaintextValue"] },
      );
    }
    this.name = environment.environment;
    this.stored = pulumi.output([...Object.keys(args.variables), ...Object.keys(args.secrets)].sort());
    this.registerOutputs({ name: this.name, stored: this.stored });
  }
}
