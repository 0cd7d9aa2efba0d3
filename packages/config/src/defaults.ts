// The configuration with nothing set: every number the guide recommends, frozen.
import { deepFreeze } from './objects.js';
import { type Config, ConfigSchema } from './schema.js';

/** Parsed from an empty input; `workspaceDir`/`memoryDir` stay relative here (loadConfig resolves them). */
export const DEFAULTS: Config = deepFreeze(ConfigSchema.parse({}));
