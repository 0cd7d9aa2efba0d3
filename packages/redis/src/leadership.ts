// One active process per deployment for the leased services (ARCHITECTURE §1: Director, Scribe
// "1 active (lease)"): an ownership-checked lease; a spare waits and takes over within about one
// TTL when the leader dies. Also the heartbeat (status leading/standby), so the team view and the
// Sentinel see who is alive.
import type { RedisClient } from './connection.js';
import { clearHeartbeat, heartbeat } from './heartbeats.js';
import type { Keys } from './keys.js';
import { holderKnownDead, type LocalProcess } from './lease-holder.js';
import { acquireLease, leaseHolder, releaseLease, renewLease } from './leases.js';

/** The logging leadership needs (a pino logger fits); redis does not depend on the runtime package. */
interface LeadershipLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(message: string): void;
}

export interface LeadershipOptions {
  redis: RedisClient;
  keys: Keys;
  logger: LeadershipLogger;
  /** Lease name and heartbeat role. */
  name: string;
  token: string;
  ttlMs: number;
  heartbeatMs: number;
  heartbeatTtlMs: number;
  /** Called when this process becomes the leader. */
  lead(): Promise<void>;
  /** Called when it loses (or gives up) the lead. */
  standDown(): Promise<void>;
  /** Extra heartbeat details (e.g. the Sentinel's round count), read at every beat. */
  info?(): Record<string, unknown>;
  /**
   * This process, for taking over at once from a holder on this host that is known dead
   * (lease-holder.ts); unset = always wait for the holder's lease to expire.
   */
  local?: LocalProcess;
  /**
   * Longest a stand-down after a LOST lease may hold up the next campaign (default 2 × ttlMs). A
   * stand-down that never ends (a worker closing around a job that hangs) must not leave the
   * process unable to lead again: after a Redis restart from its AOF the lease key may simply be
   * gone, and nobody else is there to take it (seen in the soak: the Scribe stood down at a
   * Redis restart and its checkpoints waited for good).
   */
  standDownLimitMs?: number;
}

export class Leadership {
  readonly #o: LeadershipOptions;
  #leader = false;
  #timers: NodeJS.Timeout[] = [];
  #campaigning: Promise<void> | undefined;

  constructor(options: LeadershipOptions) {
    this.#o = options;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  async start(): Promise<void> {
    const every = (ms: number, fn: () => Promise<void>, what: string) => {
      const timer = setInterval(
        () => void fn().catch((err: unknown) => this.#o.logger.warn({ err }, `${what} failed`)),
        ms,
      );
      this.#timers.push(timer);
    };
    await this.#campaign().catch((err: unknown) => this.#o.logger.warn({ err }, 'lease campaign failed'));
    every(Math.max(200, Math.floor(this.#o.ttlMs / 3)), () => this.#campaign(), 'lease campaign');
    every(this.#o.heartbeatMs, () => this.#beat(), 'heartbeat');
    await this.#beat().catch((err: unknown) => this.#o.logger.warn({ err }, 'heartbeat failed'));
  }

  #campaign(): Promise<void> {
    // One campaign at a time: a slow Redis must not let two overlap and lead twice.
    this.#campaigning ??= this.#runCampaign().finally(() => {
      this.#campaigning = undefined;
    });
    return this.#campaigning;
  }

  async #runCampaign(): Promise<void> {
    const { redis, keys, name } = this.#o;
    const opts = { ttlMs: this.#o.ttlMs, token: this.#o.token };
    if (this.#leader) {
      if (await renewLease(redis, keys, name, opts)) return;
      this.#o.logger.error(`lost the ${name} lease; standing down`);
      this.#leader = false;
      await this.#standDownWithin(this.#o.standDownLimitMs ?? 2 * this.#o.ttlMs);
      return;
    }
    let acquired = await acquireLease(redis, keys, name, opts);
    if (!acquired && this.#o.local !== undefined) {
      const holder = await leaseHolder(redis, keys, name);
      // Released only if it still names that dead holder (ownership-checked), then taken normally.
      if (holder !== null && holderKnownDead(holder, this.#o.local)) {
        this.#o.logger.info(
          { instance: this.#o.token, dead: holder },
          `the ${name} lease holder is dead; taking over`,
        );
        await releaseLease(redis, keys, name, { token: holder });
        acquired = await acquireLease(redis, keys, name, opts);
      }
    }
    if (acquired) {
      this.#o.logger.info({ instance: this.#o.token }, `acquired the ${name} lease; leading`);
      this.#leader = true;
      await this.#o.lead();
    }
  }

  /** Stands down, but gives up waiting after `limitMs` (the stand-down goes on in the background). */
  async #standDownWithin(limitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), limitMs);
    });
    const done = this.#o.standDown().then(
      () => 'done' as const,
      (err: unknown) => {
        this.#o.logger.warn({ err }, `the ${this.#o.name} stand-down failed`);
        return 'done' as const;
      },
    );
    try {
      if ((await Promise.race([done, limit])) === 'late') {
        this.#o.logger.warn(
          { limitMs },
          `the ${this.#o.name} stand-down has not finished; campaigning again (it goes on in the background)`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Beats now (also on the interval); a caller with news for `info()` need not wait for it. */
  async #beat(): Promise<void> {
    const info = this.#o.info?.();
    await heartbeat(this.#o.redis, this.#o.keys, {
      role: this.#o.name,
      instance: this.#o.token,
      ttlMs: this.#o.heartbeatTtlMs,
      status: this.#leader ? 'leading' : 'standby',
      ...(info === undefined ? {} : { info }),
    });
  }

  beat(): Promise<void> {
    return this.#beat();
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#campaigning?.catch(() => undefined);
    const wasLeader = this.#leader;
    this.#leader = false;
    await this.#o.standDown();
    const { redis, keys, name, token, logger } = this.#o;
    if (wasLeader) {
      await releaseLease(redis, keys, name, { token }).catch((err: unknown) =>
        logger.warn({ err }, `could not release the ${name} lease`),
      );
    }
    await clearHeartbeat(redis, keys, name, token).catch((err: unknown) =>
      logger.warn({ err }, 'could not clear the heartbeat'),
    );
  }
}
