// Every Redis key and queue name Nightshift uses, built from one configured prefix. A prefix in
// braces (`{nightshift}`) is a Redis Cluster hash tag: all keys then live in one slot.
import type { Recipient } from '@nightshift/protocol';

export interface Keys {
  /** The prefix as configured; also BullMQ's `prefix` option, so queue keys share the hash tag. */
  readonly prefix: string;
  /** Inbox stream for one recipient (a role, or `ALL`). */
  busTo(to: Recipient): string;
  /** Every message in total order. */
  readonly busLog: string;
  runEvents(runId: string): string;
  runMeta(runId: string): string;
  runCheckpoints(runId: string): string;
  readonly runsIndex: string;
  readonly trust: string;
  heartbeat(role: string, instance: string): string;
  heartbeatPattern(role?: string): string;
  lease(name: string): string;
  /** Publish guard for one message id: holds its bus:log entry id (a REQUEST's gets ` taken` once a consumer took it). */
  published(messageId: string): string;
  /** Free-form key under the prefix for things without a dedicated builder yet. */
  custom(...parts: string[]): string;
}

export const QUEUE_NAMES = {
  runs: 'runs',
  llm: 'llm',
  deadLetter: 'dead-letter',
  agent: (role: string) => `agent.${role}`,
} as const;

const PREFIX_RE = /^(\{[A-Za-z0-9_.-]+\}|[A-Za-z0-9_.-]+)$/;

export function createKeys(prefix = 'nightshift'): Keys {
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(
      `invalid key prefix ${JSON.stringify(prefix)}: letters, digits, "_.-", optionally in {braces}`,
    );
  }
  const k = (...parts: string[]) => [prefix, ...parts].join(':');
  return {
    prefix,
    busTo: (to) => k('bus', 'to', to),
    busLog: k('bus', 'log'),
    runEvents: (runId) => k('run', runId, 'events'),
    runMeta: (runId) => k('run', runId, 'meta'),
    runCheckpoints: (runId) => k('run', runId, 'checkpoints'),
    runsIndex: k('runs'),
    trust: k('trust'),
    heartbeat: (role, instance) => k('heartbeat', role, instance),
    heartbeatPattern: (role) => k('heartbeat', role ?? '*', '*'),
    lease: (name) => k('lease', name),
    published: (messageId) => k('published', messageId),
    custom: (...parts) => k(...parts),
  };
}
