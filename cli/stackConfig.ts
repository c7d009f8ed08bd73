/**
 * Where a stack's settings come from outside Pulumi's own store: the stack file, CI's environment
 * variables and `--set key=value` flags. The release CLI and the offline plan both use these, so a
 * setting means the same in either.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";
import { closestKey, isSecretKey, KEYS, PROJECT, type RawConfig, secretSetCommand } from "../lib/config";
import { UserError } from "../lib/errors";
import { CI_VARIABLES } from "../lib/github/environment";
import { hasCiIdentity } from "../lib/supply/ciIdentity";

/** Values by short key (no `ralph-release:` prefix), and which of them are secrets. */
export interface StackSettings {
  readonly values: Record<string, string>;
  readonly secretKeys: Set<string>;
}

/**
 * `Pulumi.<stack>.yaml`'s `ralph-release:` keys. Encrypted values (`secure:`) cannot be read without
 * the stack's secrets provider: they are returned as `placeholder`, still marked secret.
 */
export function readStackFile(projectDir: string, stack: string, placeholder: string): StackSettings {
  const file = join(projectDir, `Pulumi.${stack}.yaml`);
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  if (!existsSync(file)) return { values, secretKeys };
  let document: unknown;
  try {
    document = parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UserError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  const config = (document as { config?: Record<string, unknown> } | null)?.config ?? {};
  for (const [fullKey, value] of Object.entries(config)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    if (value !== null && typeof value === "object" && "secure" in value) {
      values[key] = placeholder;
      secretKeys.add(key);
    } else {
      values[key] = String(value);
    }
  }
  return { values, secretKeys };
}

/** Settings CI passes as environment variables (lib/github/environment.ts CI_VARIABLES), by config key. */
export function settingsFromEnvironment(env: NodeJS.ProcessEnv): StackSettings {
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const variable of CI_VARIABLES) {
    const value = env[variable.env];
    if (value === undefined || value === "") continue;
    values[variable.key] = value;
    if (isSecretKey(variable.key)) secretKeys.add(variable.key);
  }
  return { values, secretKeys };
}

/** `--set key=value` flags. Never secrets: a command line is visible to every user of the machine. */
export function settingsFromFlags(flags: readonly string[]): StackSettings {
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const flag of flags) {
    const at = flag.indexOf("=");
    const key = at > 0 ? flag.slice(0, at) : "";
    if (!(key in KEYS)) {
      const guess = at > 0 ? closestKey(key) : undefined;
      throw new UserError(
        `--set ${at > 0 ? key : flag}: expected key=value with a ralph-release key (README lists them)` +
          (guess ? `; did you mean --set ${guess}=${flag.slice(at + 1)}?` : ", e.g. --set imageNamespace=my-org."),
      );
    }
    if (isSecretKey(key)) {
      const variable = CI_VARIABLES.find((v) => v.key === key);
      throw new UserError(
        `--set ${key}: ${key} is a secret and must not be on a command line; ` +
          (variable ? `pass it in ${variable.env}, or ` : "") +
          `store it with \`${secretSetCommand(key)}\`.`,
      );
    }
    const value = flag.slice(at + 1);
    // An empty value is a default only for keys whose default is empty (pipArgs, …): else a mistake.
    const defaults = Object.values(
      (KEYS[key as keyof typeof KEYS] as { default?: Record<string, unknown> }).default ?? {},
    );
    if (value === "" && !defaults.includes(""))
      throw new UserError(
        `--set ${key}= is empty: give it a value (e.g. --set ${key}=${KEYS[key as keyof typeof KEYS].example}), or leave it out for its default.`,
      );
    values[key] = value;
  }
  return { values, secretKeys };
}

/** `--source DIR` (relative to the directory the user ran npm from) and `--set` flags, as settings. */
export function settingsFromCommandLine(
  source: string | undefined,
  set: readonly string[],
  cwd: string,
): StackSettings {
  const absolute = source && (isAbsolute(source) ? source : resolve(cwd, source));
  return settingsFromFlags([...(absolute ? [`source=${absolute}`] : []), ...set]);
}

/** Later layers win. */
export function mergeSettings(...layers: StackSettings[]): StackSettings {
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      values[key] = value;
      if (layer.secretKeys.has(key)) secretKeys.add(key);
      else secretKeys.delete(key);
    }
  }
  return { values, secretKeys };
}

export interface StackSettingsRequest {
  readonly projectDir: string;
  readonly stack: string;
  readonly source?: string;
  readonly set: readonly string[];
  /** Where a relative --source is resolved from. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Stands for each encrypted value of the stack file (never read here). */
  readonly secretPlaceholder: string;
}

/**
 * The stack file, then CI's environment, then --source/--set: what `up` would be configured with.
 * `mode` is the stack's, never a flag's: refused as `npm run release` refuses it.
 */
export function stackSettings(request: StackSettingsRequest): StackSettings {
  const given = mergeSettings(
    settingsFromEnvironment(request.env),
    settingsFromCommandLine(request.source, request.set, request.cwd),
  );
  if ("mode" in given.values) {
    throw new UserError(
      `mode comes from the first argument (${request.stack}), not from --set or the environment: run it for ${given.values.mode} instead.`,
    );
  }
  return mergeSettings(readStackFile(request.projectDir, request.stack, request.secretPlaceholder), given);
}

/** Settings by short key → what parseConfig reads (full keys, as Pulumi passes them). */
export function rawConfig(stack: string, projectDir: string, settings: StackSettings, previewOnly = false): RawConfig {
  return {
    stack,
    projectDir,
    values: Object.fromEntries(Object.entries(settings.values).map(([k, v]) => [`${PROJECT}:${k}`, v])),
    secretKeys: new Set([...settings.secretKeys].map((k) => `${PROJECT}:${k}`)),
    ciIdentity: hasCiIdentity(process.env),
    previewOnly,
  };
}
