/**
 * What every container the pipeline runs or builds is: ralph-core's architecture (debian/control.in
 * says `Architecture: amd64`), whatever the engine's own. On an arm64 Mac the builder, the gate's
 * clean install and the images are then amd64, as production installs them (under emulation), not
 * arm64 builds under an amd64 name.
 */
export const ARCHITECTURE = "amd64";
export const PLATFORM = `linux/${ARCHITECTURE}`;

/** The flag each `docker build`, `create`, `run` and `pull` of the pipeline carries. */
export const PLATFORM_FLAG = `--platform=${PLATFORM}`;

/**
 * The label each image the pipeline builds carries, beside its config's own os and architecture. A
 * flag of the build, not an argument of the recipe: images built before it are not built again.
 */
export const PLATFORM_LABEL = `--label=ralph-release.platform=${PLATFORM}`;

/** An engine's architecture as `docker version` names it (`x86_64`, `aarch64`, …), in Docker's words. */
export function dockerArchitecture(engineArch: string): string {
  const names: Record<string, string> = { x86_64: "amd64", aarch64: "arm64", armv7l: "arm" };
  return names[engineArch] ?? engineArch;
}
