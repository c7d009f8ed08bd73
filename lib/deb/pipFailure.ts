/**
 * What went wrong when pip could not install Ralph's requirements into the venv, named by package,
 * with the setting that gets past it. Reads dpkg-buildpackage's output. Pure.
 */

export function explainPipFailure(output: string): string | undefined {
  // pip prints the causes and its ERROR line on two streams: their order in the log varies.
  const causes = /The conflict is caused by:\n((?:[ \t]+\S.*\n)+)/.exec(output);
  if (causes && /because these package versions have conflicting dependencies/.test(output)) {
    const lines = causes[1]
      .trim()
      .split("\n")
      .map((line) => line.trim());
    return (
      `pip: Ralph's pins conflict under pip's resolver (${lines.join("; ")}). Ralph's own build used pip 19's ` +
      "resolver, which installs them anyway: set pipArgs to --use-deprecated=legacy-resolver (pip 20.3 to 23)."
    );
  }
  const unbuilt = /Failed to build ([^\n]+)/.exec(output) ?? /Failed building wheel for (\S+)/.exec(output);
  const failedInstall = /Running setup\.py install for (\S+): finished with status 'error'/.exec(output);
  if (unbuilt && failedInstall) {
    const packages = unbuilt[1].trim();
    return (
      `pip: ${packages} could not be built from source (no wheel of the pinned version for this Python), and ` +
      `${failedInstall[1]} failed to install. Give the builder what it compiles against with extraBuildDepends ` +
      "(and the libraries it links to with extraDepends), or build for a distribution whose Python has wheels of the pin."
    );
  }
  const missing =
    /ERROR: (?:Could not find a version that satisfies the requirement|No matching distribution found for) (\S+)/.exec(
      output,
    );
  if (missing)
    return `pip: no version of ${missing[1]} on the package index for this Python (see the pip lines below).`;
  return undefined;
}
