/**
 * The stack's configuration → typed settings: the mode first (it picks the defaults), then one
 * reader per area of the pipeline. Every problem is collected; one ConfigError lists them all, in
 * the order of the key table (README's configuration table). Pure.
 */
import type { Mode } from "../version/version";
import { closestKey, type ConfigKey, KEYS, MODES, PROJECT, SECRET_KEYS } from "./keys";
import { ConfigReader } from "./reader";
import { readDeb } from "./readers/deb";
import { readGithub } from "./readers/github";
import { readImages } from "./readers/images";
import { readPublish } from "./readers/publish";
import { readSigning } from "./readers/signing";
import { readSource } from "./readers/source";
import { ConfigError, type ConfigProblem, type RawConfig, type SecretValues, type Settings } from "./settings";

/**
 * Validates the stack's configuration and returns typed settings, or throws one ConfigError listing
 * every problem. Error text never contains a secret's value.
 */
export function parseConfig(raw: RawConfig): { settings: Settings; secrets: SecretValues } {
  const r = new ConfigReader(raw, modeOf(raw));
  checkModeAndKeys(r, raw);
  const { source, mainBranch } = readSource(r);
  const { distribution, target, deb, notices: targetNotices } = readDeb(r, source);
  const { images, push, notices: imageNotices } = readImages(r);
  const { debTargets, aptly, packagecloud, indexWaitSeconds } = readPublish(r);
  const { github, release } = readGithub(r);
  const sigstore = { fulcioUrl: r.text("sigstoreFulcioUrl"), rekorUrl: r.text("sigstoreRekorUrl") };
  const signing = readSigning(r, raw.ciIdentity ?? false, raw.previewOnly ?? false);
  const secrets = Object.fromEntries(SECRET_KEYS.map((key) => [key, r.optional(key)])) as SecretValues;

  if (r.problems.length > 0) throw new ConfigError(inTableOrder(r.problems), raw.stack);
  const publish = { debTargets, images: push, githubRelease: release };
  const notices = [...targetNotices, ...imageNotices];
  const settings = { mode: r.mode, source, mainBranch, distribution, target, deb, images, notices };
  return {
    settings: { ...settings, publish, aptly, packagecloud, indexWaitSeconds, github, sigstore, signing },
    secrets,
  };
}

/** `mode` when set (a bad value is reported by its check), else the stack's name when it is a mode. */
function modeOf(raw: RawConfig): Mode {
  const candidate = raw.values[`${PROJECT}:mode`] ?? raw.stack;
  return (MODES as readonly string[]).includes(candidate) ? (candidate as Mode) : "snapshot";
}

function checkModeAndKeys(r: ConfigReader, raw: RawConfig): void {
  for (const fullKey of Object.keys(raw.values)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    if (key in KEYS) continue;
    const guess = closestKey(key);
    r.problem(
      key,
      "is not a setting of ralph-release",
      `${guess ? `did you mean '${guess}'? ` : ""}Remove it with \`pulumi config rm --stack ${r.stack} ${key}\`; README lists every key.`,
    );
  }
  const mode = r.optional("mode");
  if (mode === undefined && !(MODES as readonly string[]).includes(raw.stack)) {
    r.problem(
      "mode",
      `is not set and stack '${r.stack}' is not named after a mode`,
      `${r.setCommand("mode")} (or 'release').`,
    );
  }
  // A stack named after a mode is that mode: a stack file cannot turn the snapshot stack (or a
  // branch's) into a release, nor the release stack into a snapshot, past the guards of each.
  const named = stackMode(raw.stack);
  if (mode !== undefined && named !== undefined && mode !== named) {
    r.problem(
      "mode",
      `is ${mode}, but stack '${r.stack}' is the ${named} stack${named === "snapshot" ? " (a snapshot stack)" : ""}`,
      `Remove it: pulumi config rm --stack ${r.stack} mode. A ${mode} runs on ${mode === "release" ? "the release stack" : "a snapshot stack"} (npm run release -- ${mode} …).`,
    );
  }
}

/** The mode a stack's name makes it: release, snapshot and snapshot-<branch>; others say it with `mode`. */
function stackMode(stack: string): Mode | undefined {
  if (stack === "release") return "release";
  return stack === "snapshot" || stack.startsWith("snapshot-") ? "snapshot" : undefined;
}

/** Unknown keys first, then by the key table; a key's own problems keep the order they were found in. */
function inTableOrder(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const order = Object.keys(KEYS) as ConfigKey[];
  const rank = (problem: ConfigProblem) => order.indexOf(problem.key.slice(PROJECT.length + 1) as ConfigKey);
  return [...problems].sort((a, b) => rank(a) - rank(b));
}
