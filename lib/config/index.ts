/**
 * The stack's configuration: the key table (keys.ts), one reader per area of the pipeline
 * (readers/), and parseConfig, which runs them and reports every problem at once (parse.ts).
 */
export {
  DEB_TARGETS,
  type DebTarget,
  isSecretKey,
  secretSetCommand,
  KEYS,
  MODES,
  PLAN_PLACEHOLDERS,
  PROJECT,
  closestKey,
  type ConfigKey,
} from "./keys";
export { parseConfig } from "./parse";
export { describeTarget } from "./readers/deb";
export { ConfigError, type ConfigProblem, type RawConfig, type SecretValues, type Settings } from "./settings";
export { configTable } from "./table";
