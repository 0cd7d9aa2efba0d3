// The Service lifecycle: idempotent start/stop, groups started in order and closed in reverse.
import { NightshiftError } from '@nightshift/protocol';
import type { Logger } from './logger.js';

/** What every long-running component and every service exposes (STYLE.md "Services"). */
export interface Service {
  readonly name: string;
  /** Idempotent: a second call returns the same promise. */
  start(): Promise<void>;
  /** Idempotent: a second call returns the same promise; waits for a start in progress. */
  stop(): Promise<void>;
}

/** Anything that can be shut down: a Service, a BullMQ Worker, a wrapped Redis connection. */
export type Closable = { readonly name: string } & ({ stop(): unknown } | { close(): unknown });

/**
 * Memoises start and stop so they run at most once each. A stopped lifecycle does not restart
 * (a fresh instance is cheaper to reason about than a half-reset one).
 */
export class Lifecycle {
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly onStart: () => Promise<void> | void,
    private readonly onStop: () => Promise<void> | void,
  ) {}

  get state(): 'new' | 'started' | 'stopped' {
    if (this.#stopping !== undefined) return 'stopped';
    return this.#starting === undefined ? 'new' : 'started';
  }

  start(): Promise<void> {
    if (this.#stopping !== undefined) {
      return Promise.reject(
        new NightshiftError('SERVICE_STOPPED', `${this.name} was stopped and cannot start again`),
      );
    }
    this.#starting ??= Promise.resolve().then(this.onStart);
    return this.#starting;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const starting = this.#starting;
    if (starting === undefined) return; // never started: nothing to close
    // A failed start may have opened some resources, so stop runs after it either way.
    await starting.catch((error: unknown) => error);
    await this.onStop();
  }
}

export interface ServiceParts {
  name: string;
  start?: () => Promise<void> | void;
  stop?: () => Promise<void> | void;
}

/** A Service from two functions, with the idempotence of Lifecycle. */
export function defineService(parts: ServiceParts): Service {
  const life = new Lifecycle(parts.name, parts.start ?? (() => undefined), parts.stop ?? (() => undefined));
  return { name: parts.name, start: () => life.start(), stop: () => life.stop() };
}

export interface CloseOptions {
  logger?: Logger;
}

/**
 * Closes components given in the order they were STARTED, last-started first (workers →
 * consumers → Redis when started Redis → consumers → workers). Every component gets its turn
 * even when an earlier one fails; the failures are thrown together at the end.
 */
export async function closeInOrder(
  startedInOrder: readonly Closable[],
  options: CloseOptions = {},
): Promise<void> {
  const failures: { name: string; error: unknown }[] = [];
  for (const component of [...startedInOrder].reverse()) {
    try {
      await ('stop' in component ? component.stop() : component.close());
      options.logger?.debug({ component: component.name }, 'closed');
    } catch (error) {
      options.logger?.error({ err: error, component: component.name }, 'close failed');
      failures.push({ name: component.name, error });
    }
  }
  if (failures.length > 0) {
    throw new NightshiftError('CLOSE_FAILED', `failed to close: ${failures.map((f) => f.name).join(', ')}`, {
      category: 'fatal',
      cause: new AggregateError(failures.map((f) => f.error)),
      details: { components: failures.map((f) => f.name) },
    });
  }
}

/**
 * One Service made of parts started in order and stopped in reverse. When part k fails to
 * start, parts 0..k-1 are closed again before the error propagates.
 */
export function serviceGroup(name: string, parts: readonly Service[], options: CloseOptions = {}): Service {
  const started: Service[] = [];
  return defineService({
    name,
    start: async () => {
      for (const part of parts) {
        try {
          await part.start();
          started.push(part);
        } catch (error) {
          // The part may have half-opened resources: close it too, then everything before it.
          await closeInOrder([...started, part], options).catch((closeError: unknown) =>
            options.logger?.error({ err: closeError, service: name }, 'cleanup after failed start failed'),
          );
          started.length = 0;
          throw error;
        }
      }
    },
    stop: () => closeInOrder(started, options),
  });
}
