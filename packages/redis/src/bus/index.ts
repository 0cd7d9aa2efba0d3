// createBus(): the message bus of ARCHITECTURE §2 over Redis streams and BullMQ queues.

import type { Role } from '@nightshift/protocol';
import type { Keys } from '../keys.js';
import { consumeStream } from './consume.js';
import { createContext } from './context.js';
import { deadLetterPayload } from './dead-letter.js';
import { readLog, tailLog } from './log.js';
import { createPublisher } from './publish.js';
import { createTakenMarker, createTaskStarter, guardLogId } from './task.js';
import type { Bus, BusOptions, Consumer, ConsumeStreamOptions } from './types.js';

export {
  type DeadLetterQueue,
  deadLetterJobId,
  openDeadLetterQueue,
} from './dead-letter.js';
export { DEFAULT_REQUEST_JOB_OPTIONS } from './publish.js';
export type * from './types.js';

const HASH_TAG = /^\{[^{}]+\}$/;

/**
 * The `accept` check of a recipient's inbox consumer: an entry in `bus:to:<role>` must be
 * addressed to that role, one in `bus:to:ALL` to ALL; anything else was written around publish()
 * and is dead-lettered as misrouted.
 */
export function inboxCheck(keys: Keys, recipient: Role): NonNullable<ConsumeStreamOptions['accept']> {
  const all = keys.busTo('ALL');
  return (message, stream) => {
    const expected = stream === all ? 'ALL' : recipient;
    return message.to === expected ? undefined : `misrouted: a message to ${message.to} in ${stream}`;
  };
}

export function createBus(options: BusOptions): Bus {
  const clustered = /^rediss?\+cluster:/i.test(options.url) || options.connection?.cluster === true;
  if (clustered && !HASH_TAG.test(options.keys.prefix)) {
    // Without one hash tag the scripts of publish and BullMQ's would span slots.
    throw new Error(
      `Redis Cluster needs a hash-tagged key prefix like {nightshift}, got ${options.keys.prefix}`,
    );
  }
  const ctx = createContext(options);
  const publish = createPublisher(ctx);
  const consumers = new Set<Consumer>();

  const track = (consumer: Consumer): Consumer => {
    consumers.add(consumer);
    return {
      group: consumer.group,
      consumer: consumer.consumer,
      streams: consumer.streams,
      ready: consumer.ready,
      async stop() {
        await consumer.stop();
        consumers.delete(consumer);
      },
    };
  };

  return {
    keys: options.keys,
    redis: ctx.redis,
    publish,
    publishedAs: async (messageId) => guardLogId(await ctx.redis.get(options.keys.published(messageId))),
    startTask: createTaskStarter(ctx),
    markTaken: createTakenMarker(ctx),
    consumeStream: (streamOptions) => track(consumeStream(ctx, streamOptions)),
    consume(recipient, handler, consumeOptions = {}) {
      const inbox = options.keys.busTo(recipient);
      const all = options.keys.busTo('ALL');
      const streams = consumeOptions.alsoAll === false ? [inbox] : [inbox, all];
      return track(
        consumeStream(ctx, {
          stream: streams,
          group: consumeOptions.group ?? recipient,
          handler,
          ...(consumeOptions.consumer === undefined ? {} : { consumer: consumeOptions.consumer }),
          ...(consumeOptions.blockMs === undefined ? {} : { blockMs: consumeOptions.blockMs }),
          ...(consumeOptions.count === undefined ? {} : { count: consumeOptions.count }),
          accept: inboxCheck(options.keys, recipient),
        }),
      );
    },
    deadLetter: (entry) => deadLetterPayload(ctx, entry),
    readLog: (readOptions) => readLog(ctx, readOptions),
    tailLog: (handler, tailOptions) => tailLog(ctx, handler, tailOptions),
    async close() {
      await Promise.allSettled([...consumers].map((c) => c.stop()));
      consumers.clear();
      await ctx.closeAll();
    },
  };
}
