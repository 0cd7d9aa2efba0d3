// The circuit breaker (guide §4 "Circuit Breaker Pattern", issue 9) as a pure state machine: after N
// consecutive failures a queue's circuit opens (pause), half-opens after a cool-down (resume, one
// trial), and closes on the trial's success or re-opens on its failure. Time is a parameter.

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface Circuit {
  readonly state: CircuitState;
  /** Consecutive failures while closed (reset by a success). */
  readonly failures: number;
  /** When it last opened (ms); the cool-down counts from here. */
  readonly openedAt?: number;
  /** How many times it opened, ever (for the dashboard). */
  readonly opens: number;
  readonly updatedAt?: number;
}

export interface CircuitConfig {
  /** Consecutive failures that open the circuit (default 5). */
  readonly failureThreshold: number;
  /** How long it stays open before a trial (default 30 s). */
  readonly coolDownMs: number;
}

export const DEFAULT_CIRCUIT_CONFIG: CircuitConfig = Object.freeze({
  failureThreshold: 5,
  coolDownMs: 30_000,
});

export const CLOSED: Circuit = Object.freeze({ state: 'closed', failures: 0, opens: 0 });

export type CircuitEvent =
  | { readonly type: 'failure'; readonly at: number }
  | { readonly type: 'success'; readonly at: number }
  /** Time passes: an open circuit past its cool-down half-opens. */
  | { readonly type: 'tick'; readonly at: number };

/** What the caller must do to the queue: `pause` when it opens, `resume` when it half-opens. */
export type CircuitEffect = 'pause' | 'resume';

export interface CircuitStep {
  readonly circuit: Circuit;
  readonly from: CircuitState;
  readonly effect?: CircuitEffect;
}

function open(c: Circuit, at: number): Circuit {
  return { state: 'open', failures: c.failures, openedAt: at, opens: c.opens + 1, updatedAt: at };
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
      if (event.type === 'tick') return { from, circuit: c };
      const failures = c.failures + 1;
      if (failures >= cfg.failureThreshold)
        return { from, circuit: open({ ...c, failures }, at), effect: 'pause' };
      return { from, circuit: { ...c, failures, updatedAt: at } };
    }
    case 'open': {
      // Outcomes of jobs that were already running when it opened say nothing about the trial.
      if (event.type !== 'tick') return { from, circuit: c };
      if (at - (c.openedAt ?? at) < cfg.coolDownMs) return { from, circuit: c };
      return { from, circuit: { ...c, state: 'half-open', updatedAt: at }, effect: 'resume' };
    }
    case 'half-open': {
      if (event.type === 'tick') return { from, circuit: c };
      if (event.type === 'success')
        return { from, circuit: { ...c, state: 'closed', failures: 0, updatedAt: at } };
      return { from, circuit: open(c, at), effect: 'pause' };
    }
  }
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
  return {
    ...base,
    ...(openedAt === undefined ? {} : { openedAt }),
    ...(updatedAt === undefined ? {} : { updatedAt }),
  };
}
