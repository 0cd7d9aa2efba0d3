// The circuit breaker (guide §4 "Circuit Breaker Pattern", issue 9) as a pure state machine: after N
// consecutive provider failures a queue's circuit opens (pause), half-opens after a cool-down (one
// trial job admitted), and closes on that trial's success or re-opens on its failure. Time is a
// parameter; which failures are the provider's is decided by the caller (failures.ts).
import type { Keys } from '@nightshift/redis';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface Circuit {
  readonly state: CircuitState;
  /** Consecutive provider failures while closed (reset by a success). */
  readonly failures: number;
  /** When it last opened (ms); the cool-down counts from here. */
  readonly openedAt?: number;
  /** How many times it opened, ever (for the dashboard). */
  readonly opens: number;
  readonly updatedAt?: number;
  /** Half-open: the job admitted as the trial, once it started; only its outcome decides. */
  readonly trialJobId?: string;
  /** Trials that failed in a row since it opened from closed: each doubles the cool-down. */
  readonly failedTrials?: number;
  /** When it opened from closed (kept across failed trials): when the outage began. */
  readonly downSince?: number;
}

export interface CircuitConfig {
  /** Consecutive provider failures that open the circuit (default 5). */
  readonly failureThreshold: number;
  /**
   * How long it stays open before the first trial (default 5 s); doubled after each failed trial,
   * up to `maxCoolDownMs`. Short first, so a provider back after a short outage is tried within
   * seconds (issue 21: "going again within seconds of Ollama coming back"); the cap bounds how
   * long after the provider is back the next trial comes. A failed trial costs one call (its caller
   * asks again), so a long outage costs about six failed calls a minute at the default cap. A soak
   * with a 60 s cap measured 21 s from Ollama back to the team going again (trials 5, 10, 20 s apart).
   */
  readonly coolDownMs: number;
  /** The longest cool-down between two trials (default 10 s). */
  readonly maxCoolDownMs: number;
  /**
   * How long one trial may run before the next job is admitted as a new trial (default 20 min,
   * longer than the longest default role timeout, the Builder's 900 s). Only a lost trial — its
   * outcome never seen — ever waits this long.
   */
  readonly trialTimeoutMs: number;
}

export const DEFAULT_CIRCUIT_CONFIG: CircuitConfig = Object.freeze({
  failureThreshold: 5,
  coolDownMs: 5_000,
  maxCoolDownMs: 10_000,
  trialTimeoutMs: 1_200_000,
});

export const CLOSED: Circuit = Object.freeze({ state: 'closed', failures: 0, opens: 0 });

export type CircuitEvent =
  /** A job became active (half-open: this is the trial). */
  | { readonly type: 'started'; readonly at: number; readonly jobId: string }
  /** A job completed. */
  | { readonly type: 'success'; readonly at: number; readonly jobId: string }
  /** A job failed because of the model/provider (failures.ts `provider`). */
  | { readonly type: 'failure'; readonly at: number; readonly jobId: string }
  /** A job failed for its own reasons, stalled, or vanished: nothing learnt about the provider. */
  | { readonly type: 'inconclusive'; readonly at: number; readonly jobId: string }
  /** Time passes: an open circuit past its cool-down half-opens. */
  | { readonly type: 'tick'; readonly at: number };

/**
 * What the caller must do to the queue: `pause` when it opens (and drop any trial gate), `resume`
 * when it half-opens (gate the queue to one job, then let it go), `admit` another trial when the
 * last one was inconclusive, `close` (drop the gate) when the trial succeeded.
 */
export type CircuitEffect = 'pause' | 'resume' | 'admit' | 'close';

export interface CircuitStep {
  readonly circuit: Circuit;
  readonly from: CircuitState;
  readonly effect?: CircuitEffect;
}

function open(c: Circuit, at: number, failedTrials = 0): Circuit {
  return {
    state: 'open',
    failures: c.failures,
    openedAt: at,
    opens: c.opens + 1,
    updatedAt: at,
    downSince: failedTrials > 0 ? (c.downSince ?? c.openedAt ?? at) : at,
    ...(failedTrials > 0 ? { failedTrials } : {}),
  };
}

/** The wait before the next trial: the first cool-down, doubled per failed trial, capped. */
export function coolDownOf(c: Circuit, cfg: CircuitConfig): number {
  const doubled = cfg.coolDownMs * 2 ** Math.min(c.failedTrials ?? 0, 30);
  return Math.max(cfg.coolDownMs, Math.min(doubled, cfg.maxCoolDownMs));
}

function withoutTrial(c: Circuit): Circuit {
  const { trialJobId: _trial, ...rest } = c;
  return rest;
}

function withoutTrials(c: Circuit): Circuit {
  const { trialJobId: _trial, failedTrials: _failed, downSince: _since, ...rest } = c;
  return rest;
}

export function stepCircuit(
  c: Circuit,
  event: CircuitEvent,
  cfg: CircuitConfig = DEFAULT_CIRCUIT_CONFIG,
): CircuitStep {
  const from = c.state;
  const at = event.at;
  switch (c.state) {
    case 'closed': {
      if (event.type === 'success')
        return { from, circuit: c.failures === 0 ? c : { ...c, failures: 0, updatedAt: at } };
      // A poison job or a crashed worker neither counts nor resets the run of provider failures.
      if (event.type !== 'failure') return { from, circuit: c };
      const failures = c.failures + 1;
      if (failures >= cfg.failureThreshold)
        return { from, circuit: open({ ...c, failures }, at), effect: 'pause' };
      return { from, circuit: { ...c, failures, updatedAt: at } };
    }
    case 'open': {
      // Outcomes of jobs that were already running when it opened say nothing about the trial.
      if (event.type !== 'tick') return { from, circuit: c };
      if (at - (c.openedAt ?? at) < coolDownOf(c, cfg)) return { from, circuit: c };
      return { from, circuit: { ...c, state: 'half-open', updatedAt: at }, effect: 'resume' };
    }
    case 'half-open': {
      if (event.type === 'tick') return { from, circuit: c };
      if (event.type === 'started') {
        // The gate lets one job start; a second start means the gate timed out (a lost trial),
        // and the newcomer is the trial now.
        if (c.trialJobId === event.jobId) return { from, circuit: c };
        return { from, circuit: { ...c, trialJobId: event.jobId, updatedAt: at } };
      }
      // Jobs that ran since before it opened finish now and then: only the trial decides.
      if (c.trialJobId === undefined || event.jobId !== c.trialJobId) return { from, circuit: c };
      if (event.type === 'success')
        return {
          from,
          circuit: { ...withoutTrials(c), state: 'closed', failures: 0, updatedAt: at },
          effect: 'close',
        };
      if (event.type === 'failure')
        return { from, circuit: open(c, at, (c.failedTrials ?? 0) + 1), effect: 'pause' };
      return { from, circuit: { ...withoutTrial(c), updatedAt: at }, effect: 'admit' };
    }
  }
}

/** The Redis hash the circuit breakers keep every queue's circuit in (one field per queue). */
export function circuitsKey(keys: Pick<Keys, 'custom'>): string {
  return keys.custom('circuit');
}

/** A stored circuit, tolerating junk (a dashboard must not break on one bad field). */
export function parseCircuit(json: string | null | undefined): Circuit {
  if (!json) return CLOSED;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    void error;
    return CLOSED;
  }
  if (typeof raw !== 'object' || raw === null) return CLOSED;
  const r = raw as Partial<Record<keyof Circuit, unknown>>;
  const state: CircuitState = r.state === 'open' || r.state === 'half-open' ? r.state : 'closed';
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const base: Circuit = { state, failures: num(r.failures) ?? 0, opens: num(r.opens) ?? 0 };
  const openedAt = num(r.openedAt);
  const updatedAt = num(r.updatedAt);
  const trialJobId = state === 'half-open' && typeof r.trialJobId === 'string' ? r.trialJobId : undefined;
  const failedTrials = state === 'closed' ? undefined : num(r.failedTrials);
  const downSince = state === 'closed' ? undefined : num(r.downSince);
  return {
    ...base,
    ...(openedAt === undefined ? {} : { openedAt }),
    ...(updatedAt === undefined ? {} : { updatedAt }),
    ...(trialJobId === undefined ? {} : { trialJobId }),
    ...(failedTrials === undefined || failedTrials <= 0 ? {} : { failedTrials }),
    ...(downSince === undefined ? {} : { downSince }),
  };
}
