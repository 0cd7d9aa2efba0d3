// Prometheus metrics, collected on scrape from Redis (so any number of dashboards agree):
//   queue jobs by state, LLM slots, escalations by level, trust per role, runs by status — gauges
//   read at scrape time;
//   LLM calls, tokens, latency per role — SOURCE: the `llm` queue's finished jobs (the gateway's
//   job data carries the caller's role, its return value `usage`, `serviceMs`, `waitedMs`). Each
//   finished job is counted once per dashboard process, while BullMQ keeps it (completed jobs
//   10 min, failed 24 h: scrape more often than that). Director calls made straight to Anthropic
//   do not pass the gateway and are not in these series (their tokens are in the run's budget).
import { alertsByLevel, type Control } from '@nightshift/client';
import { QUEUE_NAMES } from '@nightshift/redis';
import type { Metrics } from '@nightshift/runtime';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** How long a counted job id is remembered (longer than BullMQ keeps any finished llm job). */
const SEEN_TTL_MS = 26 * 3600 * 1000;
const SCAN = 2000;

interface LlmResultLike {
  usage?: { inputTokens?: number; outputTokens?: number };
  serviceMs?: number;
  waitedMs?: number;
  provider?: string;
}

function makeSeries(m: Metrics) {
  return {
    jobs: m.gauge({
      name: 'nightshift_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
    }),
    paused: m.gauge({
      name: 'nightshift_queue_paused',
      help: '1 when the queue is paused',
      labelNames: ['queue'],
    }),
    slots: m.gauge({
      name: 'nightshift_llm_slots_in_use',
      help: 'LLM calls running now (active jobs of queue llm)',
    }),
    limit: m.gauge({
      name: 'nightshift_llm_slots_limit',
      help: 'LLM slots (the gateway global concurrency)',
    }),
    waiting: m.gauge({ name: 'nightshift_llm_wait_queue', help: 'LLM calls waiting for a slot' }),
    calls: m.counter({
      name: 'nightshift_llm_calls_total',
      help: 'LLM calls through the gateway, by caller role and outcome',
      labelNames: ['role', 'outcome'],
    }),
    tokens: m.counter({
      name: 'nightshift_llm_tokens_total',
      help: 'LLM tokens through the gateway, by caller role and direction',
      labelNames: ['role', 'direction'],
    }),
    latency: m.histogram({
      name: 'nightshift_llm_latency_seconds',
      help: 'Provider time of one LLM call inside the gateway, by caller role',
      labelNames: ['role'],
      buckets: LATENCY_BUCKETS,
    }),
    wait: m.histogram({
      name: 'nightshift_llm_wait_seconds',
      help: 'Time an LLM call waited for a slot, by caller role',
      labelNames: ['role'],
      buckets: LATENCY_BUCKETS,
    }),
    escalations: m.gauge({
      name: 'nightshift_escalations',
      help: 'Alerts raised (kept in the alert store), by escalation level and status',
      labelNames: ['level', 'status'],
    }),
    trust: m.gauge({ name: 'nightshift_trust', help: 'Trust score per role (1-10)', labelNames: ['role'] }),
    runs: m.gauge({ name: 'nightshift_runs', help: 'Recent runs by status', labelNames: ['status'] }),
    agents: m.gauge({
      name: 'nightshift_agent_instances',
      help: 'Live processes per role (heartbeats)',
      labelNames: ['role'],
    }),
  };
}

type Series = ReturnType<typeof makeSeries>;

export class DashboardMetrics {
  readonly #control: Control;
  readonly #m: Metrics;
  readonly #s: Series;
  readonly #seen = new Map<string, number>();
  #collecting: Promise<void> | undefined;

  constructor(control: Control, metrics: Metrics) {
    this.#control = control;
    this.#m = metrics;
    // Created up front so a scrape lists every series name even before the first value.
    this.#s = makeSeries(metrics);
  }

  /** Refreshes every series from Redis; concurrent scrapes share one collection. */
  collect(): Promise<void> {
    this.#collecting ??= this.#collect().finally(() => {
      this.#collecting = undefined;
    });
    return this.#collecting;
  }

  async #collect(): Promise<void> {
    const s = this.#s;
    const parts = this.#control.parts;
    const status = await this.#control.status({ runs: 200 });
    s.jobs.reset();
    for (const q of status.queues) {
      for (const [state, n] of Object.entries(q.counts)) s.jobs.set({ queue: q.name, state }, n);
      s.paused.set({ queue: q.name }, q.paused ? 1 : 0);
    }
    s.slots.set(status.llm.inUse);
    s.limit.set(status.llm.limit);
    s.waiting.set(status.llm.waiting);
    s.trust.reset();
    for (const a of status.agents) {
      if (a.trust !== null) s.trust.set({ role: a.role }, a.trust);
      s.agents.set({ role: a.role }, a.instances);
    }
    s.runs.reset();
    const byStatus = new Map<string, number>();
    for (const r of status.runs) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    for (const [key, n] of byStatus) s.runs.set({ status: key }, n);
    s.escalations.reset();
    const levels = new Map<string, number>();
    for (const a of await alertsByLevel(parts)) {
      const key = `${a.level}|${a.status}`;
      levels.set(key, (levels.get(key) ?? 0) + 1);
    }
    for (const level of ['0', '1', '2', '3', '4']) {
      for (const st of ['open', 'resolved'])
        s.escalations.set({ level, status: st }, levels.get(`${level}|${st}`) ?? 0);
    }
    await this.#countLlmJobs(s);
  }

  async #countLlmJobs(s: Series): Promise<void> {
    const queue = this.#control.parts.queue(QUEUE_NAMES.llm);
    const now = Date.now();
    for (const [id, at] of this.#seen) if (now - at > SEEN_TTL_MS) this.#seen.delete(id);
    for (const state of ['completed', 'failed'] as const) {
      const ids = (await queue.getRanges([state], 0, SCAN - 1, false)).filter(
        (id) => !this.#seen.has(`${state}:${id}`),
      );
      for (const id of ids) {
        const job = await queue.getJob(id);
        this.#seen.set(`${state}:${id}`, now);
        if (!job) continue;
        const role =
          typeof (job.data as { role?: unknown })?.role === 'string'
            ? (job.data as { role: string }).role
            : 'unknown';
        if (state === 'failed') {
          s.calls.inc({ role, outcome: 'failed' });
          continue;
        }
        const result = (job.returnvalue ?? {}) as LlmResultLike;
        s.calls.inc({ role, outcome: 'ok' });
        s.tokens.inc({ role, direction: 'input' }, result.usage?.inputTokens ?? 0);
        s.tokens.inc({ role, direction: 'output' }, result.usage?.outputTokens ?? 0);
        if (typeof result.serviceMs === 'number') s.latency.observe({ role }, result.serviceMs / 1000);
        if (typeof result.waitedMs === 'number') s.wait.observe({ role }, result.waitedMs / 1000);
      }
    }
  }

  metrics(): Promise<string> {
    return this.#m.metrics();
  }

  get contentType(): string {
    return this.#m.contentType;
  }
}
