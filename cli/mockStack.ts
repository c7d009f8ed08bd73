/**
 * The Pulumi SDK's mock runtime, set up for this program: providers answer with what they would
 * report (cli/predictedOutputs.ts), config as `pulumi config set` would store it. The offline plan
 * and the tests run the program through this one setup.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../lib/config";
import { predictedOutputs, type Unknowns } from "./predictedOutputs";

/**
 * Points the runtime at mocks for `stack` with `ralph-release:` config by short key; `secretKeys` are
 * held as secrets. Every declared resource (components included) is appended to the returned list.
 */
export async function useMockStack(
  stack: string,
  config: Readonly<Record<string, string>>,
  secretKeys: Iterable<string>,
  unknowns: Unknowns,
): Promise<pulumi.runtime.MockResourceArgs[]> {
  const resources: pulumi.runtime.MockResourceArgs[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources.push(args);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...predictedOutputs(args, unknowns) } };
      },
      call: (args) => args.inputs,
    },
    PROJECT,
    stack,
    false,
    // The file backend's organization: the release stack reads its own last outputs by this name.
    "organization",
  );
  const full = (key: string) => `${PROJECT}:${key}`;
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([key, value]) => [full(key), value])),
    [...secretKeys].map(full),
  );
  return resources;
}
