/** The Ralph checkout and its main branch. */
import { type ConfigReader, isDirectory } from "../reader";
import type { Settings } from "../settings";

export function readSource(r: ConfigReader): Pick<Settings, "source" | "mainBranch"> {
  const setting = r.text("source");
  const source = r.absolute(setting);
  if (!isDirectory(source)) {
    r.problem(
      "source",
      `${source} does not exist or is not a directory`,
      `clone Ralph there (\`git clone https://github.com/allegro/ralph ${setting}\`) or ${r.setCommand("source").replace("'../ralph'", "/path/to/ralph")}`,
    );
  }
  return { source, mainBranch: r.text("mainBranch") };
}
