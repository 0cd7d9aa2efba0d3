// runService: the only place that may end the process. Signals → stop with a grace timeout; crashes → log, stop, exit 1.
import type { Logger } from './logger.js';
import type { Service } from './service.js';

/** The slice of `process` the runner uses; tests pass an EventEmitter. */
export interface ProcessLike {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface RunServiceOptions {
  logger: Logger;
  /** How long stop() may take before the process exits with 1 anyway. Default 30 s. */
  graceMs?: number;
  /** Default: the real `process`. */
  process?: ProcessLike;
  /** Default: `process.exit`. Injected by tests. */
  exit?: (code: number) => void;
  /** Default: SIGTERM (docker stop, Kubernetes) and SIGINT (Ctrl-C). */
  signals?: readonly string[];
}

export interface ServiceRunner {
  /** Resolves with the exit code after the runner has called `exit`. */
  readonly done: Promise<number>;
  /** Starts the shutdown (idempotent); resolves with the exit code. */
  stop(reason?: string): Promise<number>;
}

export const DEFAULT_GRACE_MS = 30_000;

/**
 * Runs a service for main.ts: builds it (`main` may be async, e.g. connect first), starts it,
 * and wires `process.once(signal)` to one graceful stop. A second signal of the same kind gets
 * Node's default handling (immediate termination): the operator's way to force it.
 */
export function runService(
  main: Service | (() => Service | Promise<Service>),
  options: RunServiceOptions,
): ServiceRunner {
  const proc: ProcessLike = options.process ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const log = options.logger;

  let service: Service | undefined;
  let crashed = false;
  let stopping: Promise<number> | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });

  const onSignal = (signal: string) => () => {
    log.info({ signal }, 'signal received, stopping');
    void stop(signal);
  };
  const signalListeners = signals.map((signal) => [signal, onSignal(signal)] as const);
  const onCrash = (kind: string) => (error: unknown) => {
    log.fatal({ err: error }, kind);
    crashed = true;
    void stop(kind);
  };
  const crashListeners = [
    ['uncaughtException', onCrash('uncaught exception')],
    ['unhandledRejection', onCrash('unhandled rejection')],
  ] as const;

  for (const [signal, listener] of signalListeners) proc.once(signal, listener);
  for (const [event, listener] of crashListeners) proc.on(event, listener);

  const starting = (async () => {
    service = typeof main === 'function' ? await main() : main;
    await service.start();
    log.info({ service: service.name }, 'started');
  })().catch((error: unknown) => {
    log.fatal({ err: error }, 'failed to start');
    crashed = true;
    void stop('start failed');
  });

  function stop(reason = 'requested'): Promise<number> {
    stopping ??= shutdown(reason);
    return stopping;
  }

  async function shutdown(reason: string): Promise<number> {
    log.info({ reason, graceMs }, 'stopping');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      // Deliberately ref'd: this timer is what guarantees the process ends if stop() hangs.
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const stopped = (async () => {
      await starting; // a signal during start: let start settle, then undo it
      await service?.stop();
      return 'stopped' as const;
    })().catch((error: unknown) => {
      log.error({ err: error }, 'stop failed');
      return 'failed' as const;
    });
    const outcome = await Promise.race([stopped, timedOut]);
    clearTimeout(timer);
    let code = 0;
    if (outcome === 'timeout') {
      log.fatal({ graceMs, reason }, `did not stop within ${graceMs} ms; exiting with 1`);
      code = 1;
    } else if (outcome === 'failed' || crashed) {
      code = 1;
      log.warn({ reason, code }, 'stopped after a failure');
    } else {
      log.info({ reason }, 'stopped');
    }
    for (const [signal, listener] of signalListeners) proc.off(signal, listener);
    for (const [event, listener] of crashListeners) proc.off(event, listener);
    exit(code);
    resolveDone(code);
    return code;
  }

  return { done, stop };
}
