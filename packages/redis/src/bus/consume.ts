// A consumer-group reader for one or more bus streams: ack after the handler succeeds, leave
// failures pending, reclaim entries stuck with dead consumers (XAUTOCLAIM), and move poison or
// over-delivered entries to `dead-letter`. The loop never dies of one entry or of Redis going away.
import { checkRoute, type Message } from '@nightshift/protocol';
import type { RedisClient } from '../connection.js';
import type { BusContext } from './context.js';
import { defaultConsumerName, toError } from './context.js';
import { deadLetterEntry } from './dead-letter.js';
import { decodeEntry, type RawEntry, routeOf, toEntries, toStreamBatches } from './entries.js';
import type { Consumer, ConsumeStreamOptions } from './types.js';

const MAX_BACKOFF_MS = 5000;
/** XAUTOCLAIM pages per stream per reclaim round: bounded, the rest waits for the next round. */
const MAX_CLAIM_PAGES = 10;

export function consumeStream(ctx: BusContext, options: ConsumeStreamOptions): Consumer {
  const streams = typeof options.stream === 'string' ? [options.stream] : [...options.stream];
  if (streams.length === 0) throw new Error('consumeStream: no stream given');
  const group = options.group;
  const consumer = options.consumer ?? defaultConsumerName();
  const blockMs = Math.max(1, options.blockMs ?? 2000);
  const count = Math.max(1, options.count ?? 10);
  const startId = options.startId ?? '0';
  const claimIdleMs = Math.max(1, options.claimIdleMs ?? ctx.claimIdleMs);
  const maxDeliveries = Math.max(1, options.maxDeliveries ?? ctx.maxDeliveries);
  const claimIntervalMs =
    options.claimIntervalMs ?? Math.min(30_000, Math.max(50, Math.floor(claimIdleMs / 2)));
  const enforceTopology = options.enforceTopology ?? true;
  const { redis } = ctx;

  const blocking: RedisClient = ctx.openBlocking(`consumer-${group}`);
  let stopping = false;
  let wake: (() => void) | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  /** Sleeps, but wakes at once when stop() is called. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function ensureGroups(): Promise<void> {
    for (const stream of streams) {
      try {
        await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
      } catch (error) {
        // The group already exists: the normal case after the first start. Anything else is real.
        if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
      }
    }
  }

  async function deadLetter(
    stream: string,
    entry: RawEntry,
    reason: string,
    deliveries: number,
  ): Promise<void> {
    await deadLetterEntry(ctx, {
      stream,
      group,
      entryId: entry.id,
      fields: entry.fields ?? {},
      reason,
      deliveries,
    });
    await redis.xack(stream, group, entry.id);
  }

  /** Why this entry must not reach the handler, or undefined when it may. */
  function rejection(message: Message, stream: string): string | undefined {
    if (enforceTopology) {
      const route = checkRoute(routeOf(message));
      if (!route.ok) return route.error.message;
    }
    return options.accept?.(message, stream);
  }

  /** Keeps a long-running handler's entry from looking idle, so no one reclaims it from a live consumer. */
  function keepClaimed(stream: string, entryId: string): () => void {
    const timer = setInterval(
      () => {
        // JUSTID: resets the idle time without counting a delivery.
        redis
          .xclaim(stream, group, consumer, 0, entryId, 'JUSTID')
          .catch((error: unknown) => ctx.onError(error));
      },
      Math.max(25, Math.floor(claimIdleMs / 2)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  async function handle(stream: string, entry: RawEntry, deliveries: number): Promise<void> {
    if (entry.fields === null) {
      // Trimmed (MAXLEN) or XDEL'ed while pending: record it rather than lose track of it.
      await deadLetter(stream, entry, 'entry was deleted from the stream before it was handled', deliveries);
      return;
    }
    const decoded = decodeEntry(entry.fields);
    if (!decoded.ok) {
      await deadLetter(stream, entry, decoded.reason, deliveries);
      return;
    }
    const reason = rejection(decoded.message, stream);
    if (reason !== undefined) {
      await deadLetter(stream, entry, reason, deliveries);
      return;
    }
    if (deliveries > maxDeliveries) {
      // Delivered before but never acked: its consumers died (or hung) every time it was handled.
      const why = `delivered ${deliveries} times without being acknowledged (maxDeliveries ${maxDeliveries})`;
      await deadLetter(stream, entry, why, deliveries);
      return;
    }
    const release = keepClaimed(stream, entry.id);
    try {
      await options.handler(decoded.message, { stream, entryId: entry.id, deliveries });
    } catch (error) {
      ctx.onError(toError(error));
      if (deliveries >= maxDeliveries) {
        const why = `handler failed on delivery ${deliveries} of ${maxDeliveries}: ${toError(error).message}`;
        await deadLetter(stream, entry, why, deliveries);
      }
      // Otherwise it stays pending and is reclaimed after claimIdleMs, one delivery more.
      return;
    } finally {
      release();
    }
    await redis.xack(stream, group, entry.id);
  }

  async function deliveryCount(stream: string, entryId: string): Promise<number> {
    const reply = (await redis.xpending(stream, group, entryId, entryId, 1)) as unknown;
    const first = Array.isArray(reply) ? reply[0] : undefined;
    const n = Array.isArray(first) ? Number(first[3]) : Number.NaN;
    return Number.isFinite(n) && n > 0 ? n : 1;
  }

  async function reclaim(): Promise<void> {
    for (const stream of streams) {
      let cursor = '0-0';
      for (let page = 0; page < MAX_CLAIM_PAGES && !stopping; page++) {
        const reply = (await redis.xautoclaim(
          stream,
          group,
          consumer,
          claimIdleMs,
          cursor,
          'COUNT',
          count,
        )) as unknown[];
        const entries = toEntries(reply[1]);
        for (const entry of entries) {
          if (stopping) return;
          await handle(stream, entry, await deliveryCount(stream, entry.id));
        }
        // Redis 7 drops deleted entries from the PEL itself and lists their ids here.
        const deleted = Array.isArray(reply[2]) ? reply[2].map(String) : [];
        for (const id of deleted) {
          await deadLetterEntry(ctx, {
            stream,
            group,
            entryId: id,
            fields: {},
            reason: 'entry was deleted from the stream before it was acknowledged',
            deliveries: 0,
          });
        }
        cursor = String(reply[0] ?? '0-0');
        if (cursor === '0-0') break;
      }
    }
  }

  async function loop(): Promise<void> {
    let groupsReady = false;
    let failures = 0;
    let nextClaimAt = 0;
    while (!stopping) {
      try {
        if (!groupsReady) {
          await ensureGroups();
          groupsReady = true;
          markReady();
        }
        if (Date.now() >= nextClaimAt) {
          await reclaim();
          nextClaimAt = Date.now() + claimIntervalMs;
        }
        if (stopping) break;
        const wait = Math.max(1, Math.min(blockMs, nextClaimAt - Date.now()));
        const reply = await blocking.call('XREADGROUP', [
          'GROUP',
          group,
          consumer,
          'COUNT',
          count,
          'BLOCK',
          wait,
          'STREAMS',
          ...streams,
          ...streams.map(() => '>'),
        ]);
        for (const batch of toStreamBatches(reply)) {
          for (const entry of batch.entries) {
            // Entries read but not handled stay pending and are reclaimed later: never lost.
            if (stopping) break;
            await handle(batch.stream, entry, 1);
          }
        }
        failures = 0;
      } catch (error) {
        if (stopping) break;
        const err = toError(error);
        // The stream or group vanished (e.g. Redis restarted without persistence): recreate.
        if (err.message.includes('NOGROUP')) groupsReady = false;
        ctx.onError(err);
        failures++;
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 6));
        await pause(delay + Math.floor(Math.random() * 100));
      }
    }
  }

  const done = loop()
    .catch((error: unknown) => ctx.onError(error))
    .finally(() => {
      markReady();
      blocking.disconnect();
      ctx.release(blocking);
    });

  return {
    group,
    consumer,
    streams,
    ready,
    async stop() {
      if (!stopping) {
        stopping = true;
        wake?.();
        // Ends a pending XREADGROUP BLOCK at once; the handler in flight uses the other connection.
        blocking.disconnect();
      }
      await done;
    },
  };
}
