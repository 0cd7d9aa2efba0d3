// The one sentence every surface (service logs, dashboard, morning report) shows when commands run unconfined.
import type { Config } from './schema.js';

export const UNCONFINED_WARNING =
  "TOOLS_SANDBOX=off: commands and git run UNCONFINED, with this user's rights, its files and the network; " +
  'model-written code (npm test) can read secrets and reach Redis. Remove TOOLS_SANDBOX=off to sandbox them.';

/** The warning when config.tools.sandbox is off (issue 17 §3), else undefined. */
export function unconfinedWarning(config: Pick<Config, 'tools'>): string | undefined {
  return config.tools.sandbox === 'off' ? UNCONFINED_WARNING : undefined;
}
