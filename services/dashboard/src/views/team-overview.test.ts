import type { AgentInfo, AlertInfo, RunSummary } from '@nightshift/client';
import { describe, expect, it } from 'vitest';
import { teamOverview } from './team-overview.js';

const at = '2026-01-28T01:00:00.000Z';

function run(runId: string, status: RunSummary['status'], extra: Partial<RunSummary> = {}): RunSummary {
  return {
    runId,
    title: null,
    task: `task of ${runId}`,
    status,
    phase: 2,
    phaseName: 'Execution',
    iteration: 1,
    createdAt: at,
    lastEventAt: at,
    waiting: null,
    tokens: 0,
    usd: 0,
    outcome: null,
    ended: ['finished', 'failed', 'aborted'].includes(status),
    branch: null,
    checkout: null,
    ...extra,
  } as RunSummary;
}

const alert = (id: string, level: number, reason: string): AlertInfo => ({
  id,
  runId: 'run_b',
  level,
  rule: 'resources.queue-depth',
  subject: 'llm',
  reason,
  status: 'open',
  raisedAt: at,
});

const agents = [{ role: 'scout', state: 'offline' }] as unknown as AgentInfo[];

describe('team overview', () => {
  it('says all clear when nothing is open or waiting, counting only runs under way', () => {
    const html = teamOverview({
      alerts: { open: [], openByLevel: {} },
      runs: [run('run_a', 'running'), run('run_done', 'finished')],
      agents: [],
    });
    expect(html).toContain('data-ok="true"');
    expect(html).toContain('All clear: no open alerts, nothing waiting for a human, 1 running.');
    expect(html).toContain('data-testid="overview-running-run_a"');
    expect(html).not.toContain('run_done');
  });

  it('puts the worst alert first, then waiting runs, escapes what it shows, and names offline agents', () => {
    const html = teamOverview({
      alerts: { open: [alert('a1', 1, 'slow'), alert('a3', 3, '<script>x</script>')], openByLevel: {} },
      runs: [
        run('run_b', 'running'),
        run('run_w', 'waiting-human', { waiting: { cause: 'budget', reason: 'over budget', since: at } }),
      ],
      agents,
    });
    expect(html).toContain('class="bad" data-testid="overview-verdict" data-ok="false"');
    expect(html).toContain('Needs attention: 2 open alerts, 1 run waiting for you; 1 running.');
    expect(html.indexOf('&lt;script&gt;x&lt;/script&gt;')).toBeGreaterThan(-1);
    expect(html).not.toContain('<script>');
    expect(html.indexOf('L3')).toBeLessThan(html.indexOf('L1'));
    expect(html.indexOf('overview-alerts')).toBeLessThan(html.indexOf('overview-waiting-run_w'));
    expect(html.indexOf('overview-waiting-run_w')).toBeLessThan(html.indexOf('overview-running-run_b'));
    expect(html).toContain('Offline: scout');
  });
});
