// Leases elect the one active Director, Scribe and Sentinel: a key holding the owner's token
// with a TTL. Renew and release compare the token first (in Lua), so a process whose lease
// already expired and passed to another can never extend or delete the new owner's lease.
import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

export interface LeaseOptions {
  ttlMs: number;
  /** Unique per holder (e.g. hostname-pid-random); the proof of ownership. */
  token: string;
}

function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0)
    throw new Error(`lease ttlMs must be a positive integer, got ${ttlMs}`);
}

/** Takes the lease if free (or re-extends it if `token` already holds it). True when held. */
export async function acquireLease(
  redis: RedisClient,
  keys: Keys,
  name: string,
  { ttlMs, token }: LeaseOptions,
): Promise<boolean> {
  checkTtl(ttlMs);
  return (await runScript(redis, 'acquireLease-1', [keys.lease(name)], [token, ttlMs])) === 1;
}

/** Extends the lease by `ttlMs` if `token` still holds it. False = lost it: stop acting as leader. */
export async function renewLease(
  redis: RedisClient,
  keys: Keys,
  name: string,
  { ttlMs, token }: LeaseOptions,
): Promise<boolean> {
  checkTtl(ttlMs);
  return (await runScript(redis, 'renewLease-1', [keys.lease(name)], [token, ttlMs])) === 1;
}

/** Gives the lease up if `token` holds it. False when it was not (or no longer) ours. */
export async function releaseLease(
  redis: RedisClient,
  keys: Keys,
  name: string,
  { token }: Pick<LeaseOptions, 'token'>,
): Promise<boolean> {
  return (await runScript(redis, 'releaseLease-1', [keys.lease(name)], [token])) === 1;
}

/** The current holder's token, or null when the lease is free. */
export async function leaseHolder(redis: RedisClient, keys: Keys, name: string): Promise<string | null> {
  return redis.get(keys.lease(name));
}
