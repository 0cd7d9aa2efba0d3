// Everything the morning report shows, gathered from the run's events, its bus messages, the
// LLM call log and the workspace — one plain object, so the HTML and the markdown agree.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fold, type RunEvent, type RunState } from '@nightshift/core';
import type { Message, Role } from '@nightshift/protocol';
import type { ReviewRow } from '../plan/review.js';

export interface Span {
  role: Role;
  step: string;
  phase: number;
  iteration: number;
  start: number;
  end: number;
  ok: boolean;
}

export interface LlmCall {
  role: string;
  enqueuedAt: number;
  startedAt: number;
  endedAt: number;
  inputTokens: number;
  outputTokens: number;
}

export interface ReportData {
  runId: string;
  state: RunState;
  events: RunEvent[];
  messages: Message[];
  spans: Span[];
  /** From the gateway's call log when present; otherwise derived from step spans. */
  llm: { source: 'call-log' | 'steps'; calls: LlmCall[] };
  trust: { role: string; at: number; score: number; reason: string }[];
  tokensByRole: Record<
    string,
    { tokens: number; usd: number; cacheReadTokens?: number; cacheWriteTokens?: number }
  >;
  testsRun: { at: string; text: string; passed: boolean }[];
  diffStat: string | undefined;
  /** Said at the top of the report: e.g. that commands ran unconfined (TOOLS_SANDBOX=off). */
  warning: string | undefined;
  files: { label: string; path: string }[];
  /** Issue 24 §3: the forecast recorded when the night started, for this run and its night. */
  forecast: ReviewRow[];
}

export function buildReportData(input: {
  runId: string;
  events: RunEvent[];
  messages: Message[];
  llmCalls?: LlmCall[];
  memoryDir: string;
  /** `git diff --stat` of the workspace, read by the caller through the sandboxed git tool. */
  diffStat?: string | undefined;
  warning?: string | undefined;
  /** The run's night of recorded forecasts (its own first); none recorded: empty. */
  forecast?: ReviewRow[];
}): ReportData {
  const state = fold(input.events);
  const spans: Span[] = [];
  const requested = new Map<string, { at: number; phase: number; iteration: number }>();
  let phase = 0;
  let iteration = 1;
  const tokensByRole: ReportData['tokensByRole'] = {};
  const trust: ReportData['trust'] = [];
  for (const e of input.events) {
    const at = Date.parse(e.at);
    if (e.type === 'phase.started') {
      phase = e.phase;
      iteration = e.iteration;
    }
    if (e.type === 'step.requested') requested.set(e.messageId, { at, phase, iteration });
    if (e.type === 'step.completed' || e.type === 'step.failed') {
      const r = requested.get(e.messageId);
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
  const start = input.events[0] ? Date.parse(input.events[0].at) : Date.now();
  for (const [role, score] of Object.entries(state.trust))
    trust.unshift({ role, at: start, score: score ?? 7, reason: 'start' });
  const llmCalls = input.llmCalls ?? [];
  const llm: ReportData['llm'] =
    llmCalls.length > 0
      ? { source: 'call-log', calls: llmCalls }
      : {
          source: 'steps',
          calls: spans.map((s) => ({
            role: s.role,
            enqueuedAt: s.start,
            startedAt: s.start,
            endedAt: s.end,
            inputTokens: 0,
            outputTokens: 0,
          })),
        };
  const testsRun = input.messages
    .filter((m) => m.type === 'STATUS' && /run_command|npm test|node --test|vitest/.test(m.content))
    .map((m) => ({
      at: m.timestamp,
      text: m.content.slice(0, 200),
      passed: /exit code 0\b|→ ok/.test(m.content),
    }));
  const runDir = join(input.memoryDir, input.runId);
  const files: ReportData['files'] = [];
  const add = (label: string, path: string) => existsSync(path) && files.push({ label, path });
  add('team-state.md', join(runDir, 'team-state.md'));
  add('decisions.md', join(runDir, 'decisions.md'));
  add('summary.md', join(runDir, 'summary.md'));
  add('emergency.md', join(runDir, 'emergency.md'));
  const cps = join(runDir, 'checkpoints');
  if (existsSync(cps))
    for (const f of readdirSync(cps).sort()) files.push({ label: `checkpoint ${f}`, path: join(cps, f) });
  const alerts = join(input.memoryDir, 'alerts');
  if (existsSync(alerts))
    for (const f of readdirSync(alerts).sort()) files.push({ label: `alert ${f}`, path: join(alerts, f) });
  return {
    runId: input.runId,
    state,
    events: input.events,
    messages: input.messages,
    spans,
    llm,
    trust,
    tokensByRole,
    testsRun,
    diffStat: input.diffStat,
    warning: input.warning,
    files,
    forecast: input.forecast ?? [],
  };
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
