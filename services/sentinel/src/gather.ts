// Gathers the facts of one Sentinel round from Redis and BullMQ: open runs, queue counts (with the
// background calls on `llm` counted apart), how long agents have been busy, LLM latency, the `llm`
// circuit (is the model provider down?), host memory and the Director's heartbeat.
import { isRole, type Role } from '@nightshift/protocol';
import { type HeartbeatRecord, type Keys, listHeartbeats, type RedisClient } from '@nightshift/redis';
import type { Queue } from 'bullmq';
import { type Circuit, circuitsKey, parseCircuit } from './circuit.js';
import type { Facts } from './observe.js';
import type { RunCache } from './runs.js';

export interface MemoryInfo {
  total: number;
  free: number;
}

export interface GatherDeps {
  redis: RedisClient;
  keys: Keys;
  runs: RunCache;
  queue: (name: string) => Queue;
  /** Worker queues (agent.<role>). */
  agentQueues: readonly string[];
  llmQueue: string;
  /**
   * The BullMQ priority of background calls on `llm` (the Scribe's, lowest by default): counted
   * apart from the team's requests by the queue-depth rule (issue 21). Absent = none counted apart.
   */
  backgroundPriority?: number;
  memory?: () => MemoryInfo;
}

const COUNT_TYPES = ['waiting', 'prioritized', 'paused', 'active', 'delayed', 'failed', 'completed'] as const;

/** Keeps what must survive a restart (the Director last seen) and what spans rounds (LLM jobs seen). */
export class Gatherer {
  readonly #d: GatherDeps;
  #directorSeen: number | undefined;
  /** Newest finish time of an LLM job already judged; undefined until the first round. */
  #llmFinishedSeen: number | undefined;
  /** Per open run: LLM calls whose prompt may have been cut (issue 20), counted once per job. */
  readonly #promptCuts = new Map<string, number>();
  heartbeats: HeartbeatRecord[] = [];

  constructor(deps: GatherDeps) {
    this.#d = deps;
  }

  get #seenKey(): string {
    return this.#d.keys.custom('sentinel', 'director-seen');
  }

  /**
   * When the Director was last seen. Persisted, so a restarted Sentinel keeps the same anchor
   * (and so the same incident key) for a Director that is still silent: no second alert.
   */
  async #directorLastSeen(now: number, present: boolean): Promise<number> {
    if (present) {
      this.#directorSeen = now;
      await this.#d.redis.set(this.#seenKey, String(now));
      return now;
    }
    if (this.#directorSeen === undefined) {
      const stored = Number(await this.#d.redis.get(this.#seenKey));
      this.#directorSeen = Number.isFinite(stored) && stored > 0 ? stored : now;
      if (!(stored > 0)) await this.#d.redis.set(this.#seenKey, String(now));
    }
    return this.#directorSeen;
  }

  async gather(now: number): Promise<Facts> {
    const d = this.#d;
    const runs = await d.runs.open();
    const counts: Record<string, Record<string, number>> = {};
    const busy: Record<string, Partial<Record<Role, number>>> = {};
    for (const name of d.agentQueues) {
      const queue = d.queue(name);
      counts[name] = await queue.getJobCounts(...COUNT_TYPES);
      const role = name.replace(/^agent\./, '');
      if (!isRole(role)) continue;
      for (const job of await queue.getActive(0, 99)) {
        const runId = (job.data as { runId?: unknown } | undefined)?.runId;
        if (typeof runId !== 'string' || job.processedOn === undefined) continue;
        const perRun = busy[runId] ?? {};
        busy[runId] = perRun;
        perRun[role] = Math.min(perRun[role] ?? job.processedOn, job.processedOn);
      }
    }
    const llm = d.queue(d.llmQueue);
    counts[d.llmQueue] = await llm.getJobCounts(...COUNT_TYPES);
    const llmLatencyMs = await this.#llmLatency(llm, now);
    for (const runId of this.#promptCuts.keys()) {
      if (!runs.some((r) => r.runId === runId)) this.#promptCuts.delete(runId);
    }
    const background: Record<string, number> = {};
    if (d.backgroundPriority !== undefined) {
      const perPriority = await llm.getCountsPerPriority([d.backgroundPriority]);
      background[d.llmQueue] = perPriority[String(d.backgroundPriority)] ?? 0;
    }
    const llmCircuit = { queue: d.llmQueue, circuit: await this.#circuit(d.llmQueue) };

    this.heartbeats = await listHeartbeats(d.redis, d.keys);
    const directorPresent = this.heartbeats.some((h) => h.role === 'director');
    const directorLastSeen = await this.#directorLastSeen(now, directorPresent);

    const memory = d.memory?.();
    const memoryPercent =
      memory && memory.total > 0 ? Math.round((1 - memory.free / memory.total) * 1000) / 10 : undefined;
    return {
      now,
      runs,
      counts,
      busy,
      directorLastSeen,
      background,
      llmCircuit,
      ...(llmLatencyMs === undefined ? {} : { llmLatencyMs }),
      ...(this.#promptCuts.size === 0 ? {} : { promptCuts: Object.fromEntries(this.#promptCuts) }),
      ...(memoryPercent === undefined ? {} : { memoryPercent }),
    };
  }

  /**
   * The circuit of a queue as the circuit breakers stored it (the `circuit` hash): read from Redis,
   * not from this process, so it is the same whichever Sentinel leads and survives a restart.
   */
  async #circuit(queue: string): Promise<Circuit> {
    return parseCircuit(await this.#d.redis.hget(circuitsKey(this.#d.keys), queue));
  }

  /**
   * The slowest LLM call: running ones (now − start) and those finished since the last round; also
   * counts, per run, the finished calls whose prompt may have been cut.
   */
  async #llmLatency(llm: Queue, now: number): Promise<number | undefined> {
    let slowest: number | undefined;
    const consider = (ms: number) => {
      if (Number.isFinite(ms) && ms >= 0) slowest = Math.max(slowest ?? 0, ms);
    };
    for (const job of await llm.getActive(0, 99)) {
      if (job.processedOn !== undefined) consider(now - job.processedOn);
    }
    const first = this.#llmFinishedSeen === undefined;
    let newest = this.#llmFinishedSeen ?? 0;
    for (const job of await llm.getJobs(['completed', 'failed'], 0, 49, false)) {
      if (job.finishedOn === undefined || job.processedOn === undefined) continue;
      if (job.finishedOn <= (this.#llmFinishedSeen ?? 0)) continue;
      newest = Math.max(newest, job.finishedOn);
      // The gateway marks a call whose prompt may have been cut; old history of a run counts too.
      const runId = (job.data as { runId?: unknown } | undefined)?.runId;
      if (
        (job.returnvalue as { promptCut?: unknown } | null)?.promptCut === true &&
        typeof runId === 'string'
      ) {
        this.#promptCuts.set(runId, (this.#promptCuts.get(runId) ?? 0) + 1);
      }
      // The first round only learns where "since the last round" starts: old history is not news.
      if (!first) consider(job.finishedOn - job.processedOn);
    }
    this.#llmFinishedSeen = newest;
    return slowest;
  }
}
