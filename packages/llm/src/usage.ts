// Token and latency accounting per role and per run, in memory, for /metrics and the morning
// report (guide §10.3: token cost accumulates fast with seven agents; measure it).
import type { ChatModel, ChatRequest, ChatResult, LlmCaller } from './types.js';

export interface UsageTotals {
  calls: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  latencyMsTotal: number;
  latencyMsMax: number;
}

export interface UsageSnapshot {
  total: UsageTotals;
  byRole: Partial<Record<LlmCaller, UsageTotals>>;
  byRun: Record<string, UsageTotals>;
}

function empty(): UsageTotals {
  return { calls: 0, failures: 0, inputTokens: 0, outputTokens: 0, latencyMsTotal: 0, latencyMsMax: 0 };
}

export class UsageRecorder {
  readonly #total = empty();
  readonly #byRole = new Map<LlmCaller, UsageTotals>();
  readonly #byRun = new Map<string, UsageTotals>();
  readonly #maxRuns: number;

  /** `maxRuns` bounds memory in a long-lived process: the oldest run's totals are dropped first. */
  constructor(options: { maxRuns?: number } = {}) {
    this.#maxRuns = options.maxRuns ?? 1000;
  }

  record(role: LlmCaller, runId: string | undefined, result: Pick<ChatResult, 'usage' | 'latencyMs'>): void {
    for (const t of this.#buckets(role, runId)) {
      t.calls += 1;
      t.inputTokens += result.usage.inputTokens;
      t.outputTokens += result.usage.outputTokens;
      t.latencyMsTotal += result.latencyMs;
      t.latencyMsMax = Math.max(t.latencyMsMax, result.latencyMs);
    }
  }

  recordFailure(role: LlmCaller, runId: string | undefined): void {
    for (const t of this.#buckets(role, runId)) t.failures += 1;
  }

  snapshot(): UsageSnapshot {
    return {
      total: { ...this.#total },
      byRole: Object.fromEntries([...this.#byRole].map(([k, v]) => [k, { ...v }])),
      byRun: Object.fromEntries([...this.#byRun].map(([k, v]) => [k, { ...v }])),
    };
  }

  forgetRun(runId: string): void {
    this.#byRun.delete(runId);
  }

  #buckets(role: LlmCaller, runId: string | undefined): UsageTotals[] {
    const out = [this.#total, this.#bucket(this.#byRole, role)];
    if (runId !== undefined) {
      if (!this.#byRun.has(runId) && this.#byRun.size >= this.#maxRuns) {
        const oldest = this.#byRun.keys().next().value;
        if (oldest !== undefined) this.#byRun.delete(oldest);
      }
      out.push(this.#bucket(this.#byRun, runId));
    }
    return out;
  }

  #bucket<K>(map: Map<K, UsageTotals>, key: K): UsageTotals {
    let t = map.get(key);
    if (!t) {
      t = empty();
      map.set(key, t);
    }
    return t;
  }
}

/** Wraps a model so every call (and every failure) is recorded. */
export function withUsage(model: ChatModel, recorder: UsageRecorder): ChatModel {
  return {
    name: model.name,
    async chat(request: ChatRequest): Promise<ChatResult> {
      try {
        const result = await model.chat(request);
        recorder.record(request.role, request.runId, result);
        return result;
      } catch (error) {
        recorder.recordFailure(request.role, request.runId);
        throw error;
      }
    },
  };
}
