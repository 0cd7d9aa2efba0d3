// How steering commands get the control layer: the injected `openControl`, else one opened from
// the configuration in `deps.env` (read only now, so `--help` works without a valid config).

import { type Control, openControl } from '@nightshift/client';
import { loadConfig, workspaceRootsOf } from '@nightshift/config';
import { redactRedisUrl, runArchiveDir } from '@nightshift/redis';
import type { CliDeps } from './deps.js';

export function controlFromConfig(deps: CliDeps): Control {
  const config = loadConfig(deps.env ?? {});
  let lastWarning = '';
  return openControl({
    url: config.redis.url,
    prefix: config.redis.prefix,
    numParallel: config.ollama.numParallel,
    actor: 'cli',
    // Issue 24 §3: the ETAs `status` shows (a one-shot command computes one forecast).
    eta: {
      historyRuns: config.plan.historyRuns,
      loadStretch: config.plan.loadStretch,
      samples: config.plan.etaSamples,
      cacheMs: config.plan.etaCacheMs,
    },
    // Issue 18 §7: WORKSPACE_ROOTS, else WORKSPACE_DIR and this folder (as `nightshift up` started here).
    // Unset here: the roots the running Director published win (it may have started elsewhere).
    workspace: {
      dir: config.workspaceDir,
      roots: workspaceRootsOf(config, process.cwd()),
      preferDeployment: config.workspaceRoots === undefined,
    },
    // Issue 21 §2: runs moved out of Redis are read from MEMORY_DIR/archive.
    archiveDir: runArchiveDir(config.memoryDir),
    // A one-shot command should fail fast when Redis is down, not retry for a minute.
    connection: { maxRetriesPerRequest: 1 },
    busOptions: {
      streamMaxLen: config.redis.streamMaxLen,
      maxDeliveries: config.redis.maxDeliveries,
      claimIdleMs: config.redis.claimIdleMs,
    },
    onError(error) {
      // Reconnect loops repeat the same error; say it once per change.
      const text = `warning: redis ${redactRedisUrl(config.redis.url)}: ${error.message}`;
      if (text !== lastWarning) deps.stderr(`${text}\n`);
      lastWarning = text;
    },
  });
}

/** Runs `fn` with an open control layer and always closes it. */
export async function withControl<T>(deps: CliDeps, fn: (control: Control) => Promise<T>): Promise<T> {
  const control = deps.openControl ? await deps.openControl() : controlFromConfig(deps);
  try {
    return await fn(control);
  } finally {
    await control.close();
  }
}

export function isTTY(deps: CliDeps): boolean {
  return deps.isTTY ?? process.stdout.isTTY === true;
}

export function printJson(deps: CliDeps, value: unknown): void {
  deps.stdout(`${JSON.stringify(value)}\n`);
}
