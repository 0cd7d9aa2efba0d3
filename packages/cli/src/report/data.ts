// Everything the morning report shows, gathered from the run's events, its bus messages, the
// LLM call log and the workspace — one plain object, so the HTML and the markdown agree.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ChartSeries, chartSeries, type LlmCall } from '@nightshift/charts';
import { fold, type RunEvent, type RunState } from '@nightshift/core';
import type { Message } from '@nightshift/protocol';
import type { ReviewRow } from '../plan/review.js';

export interface ReportData {
  runId: string;
  state: RunState;
  events: RunEvent[];
  messages: Message[];
  /** Spans, LLM calls, trust and tokens per role: what the charts plot (@nightshift/charts). */
  series: ChartSeries;
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
  const series = chartSeries({ events: input.events, llmCalls: input.llmCalls });
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
    series,
    testsRun,
    diffStat: input.diffStat,
    warning: input.warning,
    files,
    forecast: input.forecast ?? [],
  };
}
