/** Rewrites README.md's configuration table from lib/config/keys.ts (`npm run readme`); a test keeps them equal. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configTable } from "../lib/config";

const path = join(__dirname, "..", "README.md");
const readme = readFileSync(path, "utf8");
const start = "<!-- config-table:start -->\n";
const end = "<!-- config-table:end -->";
const from = readme.indexOf(start);
const to = readme.indexOf(end);
if (from < 0 || to < from) throw new Error(`README.md lacks the ${start.trim()} … ${end} markers`);
writeFileSync(path, `${readme.slice(0, from + start.length)}${configTable()}\n${readme.slice(to)}`);
