// @nightshift/config: loadConfig(env) with the guide's defaults, validated; the only reader of process.env.
export { DEFAULTS } from './defaults.js';
export { describeConfig, type JsonValue } from './describe.js';
export { ENV_VARS, type EnvKind, type EnvVar } from './env.js';
export { CONFIG_FILE_NAMES } from './file.js';
export { type Env, type LoadConfigOptions, loadConfig, workspaceRootsOf } from './load.js';
export { normaliseOllamaHost } from './primitives.js';
export { BULLMQ_PRIORITY, PRIORITIES, ROLE_DEFAULTS, type RolePriority, type RoleSettings } from './roles.js';
export { UNCONFINED_WARNING, unconfinedWarning } from './sandbox.js';
export {
  type AnthropicConfig,
  type Config,
  type ConfigInput,
  ConfigSchema,
  ESCALATION_LEVELS,
  LOG_LEVELS,
  type LogLevel,
  MODEL_MODES,
  type ModelMode,
  type OllamaConfig,
  type RedisConfig,
  type RetentionConfig,
  SANDBOX_MODES,
} from './schema.js';
export { maskUrlCredentials, REDACTED, SECRET_PATHS, type SecretKind } from './secrets.js';
