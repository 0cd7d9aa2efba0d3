// Pausing queues on behalf of alerts and circuits. A queue may be held by several at once (an L2
// and a circuit, say): it resumes only when the last holder lets go. Holds live in Redis, so a
// restarted Sentinel still knows who paused what.
import type { Keys, RedisClient } from '@nightshift/redis';
import type { Queue } from 'bullmq';

/** A holder that is not ours: the queue was paused before we first held it (e.g. from the dashboard). */
const EXTERNAL = 'external';

export class QueueHolds {
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #queue: (name: string) => Queue;

  constructor(redis: RedisClient, keys: Keys, queue: (name: string) => Queue) {
    this.#redis = redis;
    this.#keys = keys;
    this.#queue = queue;
  }

  #set(queue: string): string {
    return this.#keys.custom('sentinel', 'holds', queue);
  }

  /** Pauses the queue for `holder`. A pause we did not make is remembered so we never undo it. */
  async hold(queueName: string, holder: string): Promise<void> {
    const key = this.#set(queueName);
    const queue = this.#queue(queueName);
    const [members, paused] = await Promise.all([this.#redis.smembers(key), queue.isPaused()]);
    if (paused && members.length === 0) await this.#redis.sadd(key, EXTERNAL);
    else if (!paused && members.includes(EXTERNAL)) await this.#redis.srem(key, EXTERNAL);
    await this.#redis.sadd(key, holder);
    if (!paused) await queue.pause();
  }

  /** Lets go of the queue; resumes it when no one holds it any more. True when it was resumed. */
  async release(queueName: string, holder: string): Promise<boolean> {
    const key = this.#set(queueName);
    const removed = await this.#redis.srem(key, holder);
    if (removed === 0) return false;
    if ((await this.#redis.scard(key)) > 0) return false;
    await this.#queue(queueName).resume();
    return true;
  }

  /** Lets go of every queue this holder holds; returns the queues that resumed. */
  async releaseAll(queueNames: readonly string[], holder: string): Promise<string[]> {
    const resumed: string[] = [];
    for (const name of queueNames) if (await this.release(name, holder)) resumed.push(name);
    return resumed;
  }

  async holders(queueName: string): Promise<string[]> {
    return (await this.#redis.smembers(this.#set(queueName))).sort();
  }
}
