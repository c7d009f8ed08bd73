/** The deb benchmarks' one step under test: build the deb, then run the verification gate on it. */
import { buildDeb, type DebArtifact, type DebBuildRequest } from "../lib/deb/build";
import { verifyDeb } from "../lib/deb/verify";

export async function buildAndVerify(
  request: DebBuildRequest,
  images: { checkerImage: string; installImage: string },
): Promise<DebArtifact> {
  const artifact = await buildDeb(request);
  await verifyDeb({ debPath: artifact.path, expected: artifact, ...images });
  return artifact;
}
