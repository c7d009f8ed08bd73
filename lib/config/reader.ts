/**
 * Reads one stack's raw values by key, as the key table describes them, and collects every problem
 * the readers find, so that one error can list them all. Pure.
 */
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { Mode } from "../version/version";
import {
  isSecretKey,
  secretSetCommand,
  type ConfigKey,
  type DefaultedKey,
  type FlagKey,
  KEYS,
  type KeySpec,
  PLAN_PLACEHOLDERS,
  PROJECT,
} from "./keys";
import type { ConfigProblem, RawConfig } from "./settings";

export const fullKey = (key: string) => `${PROJECT}:${key}`;

export class ConfigReader {
  readonly problems: ConfigProblem[] = [];
  private readonly values = new Map<ConfigKey, string | boolean | undefined>();

  constructor(
    private readonly raw: RawConfig,
    readonly mode: Mode,
  ) {}

  get stack(): string {
    return this.raw.stack;
  }

  problem(key: string, text: string, fix: string): void {
    this.problems.push({ key: fullKey(key), problem: text, fix });
  }

  /** The command that sets `key` to its example value on this stack. */
  setCommand(key: ConfigKey): string {
    const spec: KeySpec = KEYS[key];
    if (isSecretKey(key)) return secretSetCommand(key, this.stack);
    return `pulumi config set --stack ${this.stack} ${key} '${spec.example}'`;
  }

  /** A text key with a default: always a value. */
  text(key: DefaultedKey): string {
    return this.read(key) as string;
  }

  /** A key without a default (or a secret): undefined when not set. */
  optional(key: ConfigKey): string | undefined {
    return this.read(key) as string | undefined;
  }

  flag(key: FlagKey): boolean {
    return this.read(key) as boolean;
  }

  /** A path setting made absolute against `base` (default: the project directory). */
  absolute(path: string, base = this.raw.projectDir): string {
    return isAbsolute(path) ? path : resolve(base, path);
  }

  /** Reads each key once, so that a problem with its value is reported once however often it is read. */
  private read(key: ConfigKey): string | boolean | undefined {
    if (!this.values.has(key)) this.values.set(key, this.readValue(key));
    return this.values.get(key);
  }

  private readValue(key: ConfigKey): string | boolean | undefined {
    const spec: KeySpec = KEYS[key];
    const value = this.raw.values[fullKey(key)];
    if (value === undefined) return spec.default?.[this.mode];
    if (spec.kind === "secret") {
      if (!this.raw.secretKeys.has(fullKey(key))) {
        this.problem(
          key,
          `is stored in plain text in Pulumi.${this.stack}.yaml`,
          `pulumi config rm --stack ${this.stack} ${key} && ${this.setCommand(key)}`,
        );
      }
      if (value.trim() === "") this.problem(key, "is empty", this.setCommand(key));
      // A secret's check never quotes the value; the offline plan's stand-ins are not values to check.
      else if (!PLAN_PLACEHOLDERS.includes(value) && spec.check?.(value))
        this.problem(key, spec.check(value)!, this.setCommand(key));
      return value;
    }
    if (spec.kind === "boolean") {
      if (value === "true" || value === "false") return value === "true";
      this.problem(key, `${JSON.stringify(value)} is not true or false`, `${this.setCommand(key)} (or false).`);
      return spec.default?.[this.mode];
    }
    // The offline plan stands in for the one checked setting CI hands in (cli/plan.ts missingCredentials).
    const standIn = key === "packagecloudGpgKey" && PLAN_PLACEHOLDERS.includes(value);
    const bad = standIn ? undefined : spec.check?.(value);
    if (bad) this.problem(key, bad, this.setCommand(key));
    return value;
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
