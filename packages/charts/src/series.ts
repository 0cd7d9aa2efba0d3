// What the run charts plot, derived from a run's events and the gateway's LLM call log: step spans
// (who worked on what, by phase), LLM calls, trust over time and tokens per role. Pure and
// clock-free: a live view passes `now` so steps still in flight are drawn up to that moment.
import { DEFAULT_START_TRUST, fold, isTerminal, type RunEvent } from '@nightshift/core';
import type { Role } from '@nightshift/protocol';
import type { LlmCall } from './llm-calls.js';

export interface Span {
  role: Role;
  step: string;
  phase: number;
  iteration: number;
  /** Epoch milliseconds. */
  start: number;
  end: number;
  /** Ended well (`true`), failed (`false`), or still in flight at `now` (`null`). */
  ok: boolean | null;
}

export interface TrustPoint {
  role: string;
  at: number;
  score: number;
  reason: string;
}

export interface RoleTokens {
  tokens: number;
  usd: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export interface ChartSeries {
  /** Epoch milliseconds of the run's first event: the charts' zero. */
  t0: number;
  spans: Span[];
  /** From the gateway's call log when present; otherwise derived from the finished steps. */
  llm: { source: 'call-log' | 'steps'; calls: LlmCall[] };
  trust: TrustPoint[];
  tokensByRole: Record<string, RoleTokens>;
}

export interface SeriesInput {
  events: readonly RunEvent[];
  llmCalls?: readonly LlmCall[] | undefined;
  /** Epoch milliseconds; when given, steps requested and not yet ended become spans up to it. */
  now?: number | undefined;
}

export function chartSeries(input: SeriesInput): ChartSeries {
  const { events } = input;
  const state = fold([...events]);
  const spans: Span[] = [];
  const requested = new Map<
    string,
    { at: number; role: Role; step: string; phase: number; iteration: number }
  >();
  let phase = 0;
  let iteration = 1;
  const tokensByRole: Record<string, RoleTokens> = {};
  const trust: TrustPoint[] = [];
  for (const e of events) {
    const at = Date.parse(e.at);
    if (e.type === 'phase.started') {
      phase = e.phase;
      iteration = e.iteration;
    }
    if (e.type === 'step.requested')
      requested.set(e.messageId, { at, role: e.role, step: e.step, phase, iteration });
    if (e.type === 'step.completed' || e.type === 'step.failed') {
      const r = requested.get(e.messageId);
      requested.delete(e.messageId);
      const start = r?.at ?? at;
      spans.push({
        role: e.role,
        step: e.step,
        phase: r?.phase ?? phase,
        iteration: r?.iteration ?? iteration,
        start,
        end: Math.max(at, start + 1),
        ok: e.type === 'step.completed',
      });
      if (e.type === 'step.completed' && e.usage) {
        const t = tokensByRole[e.role] ?? { tokens: 0, usd: 0 };
        t.tokens += e.usage.inputTokens + e.usage.outputTokens;
        t.usd += e.usage.usd ?? 0;
        addCache(t, e.usage);
        tokensByRole[e.role] = t;
      }
    }
    if (e.type === 'budget.used') {
      const t = tokensByRole.director ?? { tokens: 0, usd: 0 };
      t.tokens += e.tokens;
      t.usd += e.usd;
      addCache(t, e);
      tokensByRole.director = t;
    }
    if (e.type === 'trust.changed') trust.push({ role: e.role, at, score: e.to, reason: e.reason });
  }
  const finished = spans.slice();
  if (input.now !== undefined && !isTerminal(state.status))
    for (const r of requested.values())
      spans.push({ ...r, start: r.at, end: Math.max(input.now, r.at + 1), ok: null });
  const t0 = events[0] ? Date.parse(events[0].at) : (input.now ?? 0);
  // Each role starts where its first change came from; a role never changed is at its score now.
  const starts = Object.entries(state.trust).map(([role, score]) => ({
    role,
    at: t0,
    score: trustAtStart(events, role) ?? score ?? DEFAULT_START_TRUST,
    reason: 'start',
  }));
  trust.unshift(...starts);
  const calls = [...(input.llmCalls ?? [])];
  const llm: ChartSeries['llm'] =
    calls.length > 0
      ? { source: 'call-log', calls }
      : {
          source: 'steps',
          calls: finished.map((s) => ({
            role: s.role,
            enqueuedAt: s.start,
            startedAt: s.start,
            endedAt: s.end,
            inputTokens: 0,
            outputTokens: 0,
          })),
        };
  return { t0, spans, llm, trust, tokensByRole };
}

function trustAtStart(events: readonly RunEvent[], role: string): number | undefined {
  for (const e of events) if (e.type === 'trust.changed' && e.role === role) return e.from;
  return undefined;
}

/** Slot occupancy (calls running) and waiting calls over time, as step functions. */
export function occupancy(calls: readonly LlmCall[]): { t: number; running: number; waiting: number }[] {
  const points = new Set<number>();
  for (const c of calls) for (const x of [c.enqueuedAt, c.startedAt, c.endedAt]) points.add(x);
  return [...points]
    .sort((a, b) => a - b)
    .map((t) => ({
      t,
      running: calls.filter((c) => c.startedAt <= t && t < c.endedAt).length,
      waiting: calls.filter((c) => c.enqueuedAt <= t && t < c.startedAt).length,
    }));
}

/** Adds a call's prompt-cache tokens (Anthropic) to a role's totals, keeping absent as absent. */
function addCache(
  t: { cacheReadTokens?: number; cacheWriteTokens?: number },
  u: { cacheReadTokens?: number | undefined; cacheWriteTokens?: number | undefined },
): void {
  if (u.cacheReadTokens) t.cacheReadTokens = (t.cacheReadTokens ?? 0) + u.cacheReadTokens;
  if (u.cacheWriteTokens) t.cacheWriteTokens = (t.cacheWriteTokens ?? 0) + u.cacheWriteTokens;
}
