import { DEFAULT_DETECTION_THRESHOLDS, type Detection, detect, escalate } from '@nightshift/core';
import type { AlertRecord } from '@nightshift/redis';
import { describe, expect, it } from 'vitest';
import {
  alertKeyOf,
  baseKeyOf,
  currentLevel,
  familyOf,
  historyFor,
  levelWord,
  neededRole,
  type PlanContext,
  planSteps,
  prune,
  queuesToPause,
  WORKER_QUEUES,
} from './planner.js';

const ctx: PlanContext = { openRunIds: ['run_a', 'run_b'], webhookMinLevel: 3, webhookConfigured: true };
const T = DEFAULT_DETECTION_THRESHOLDS;
const NOW = Date.parse('2030-01-01T00:00:00Z');

function alert(partial: Partial<AlertRecord>): AlertRecord {
  return {
    id: 'alert_x',
    key: 'k',
    level: 2,
    rule: 'emergency.trust-low',
    subject: 'builder',
    reason: 'r',
    status: 'open',
    raisedAt: new Date(NOW).toISOString(),
    actions: [],
    ...partial,
  };
}

/** detection → escalation → steps, as the Sentinel's round does. */
function judge(d: Detection, runId: string | undefined, open: AlertRecord[] = []) {
  const e = escalate(currentLevel(runId, open, d.key), d, historyFor(d, runId, d.key, open));
  // Deferred (no actions) means nothing is raised nor done, as in the Sentinel's round.
  if (e.actions.length === 0) return { e, steps: [], kinds: [] };
  const steps = planSteps(
    {
      level: e.level,
      rule: d.rule,
      subject: d.subject,
      actions: [...e.actions],
      ...(runId ? { runId } : {}),
    },
    ctx,
  );
  return { e, steps, kinds: steps.map((s) => s.kind) };
}

describe('the action planner', () => {
  it('names the grep word of each level', () => {
    expect([1, 2, 3, 4].map((l) => levelWord(l as 1))).toEqual(['ALERT', 'EMERGENCY', 'ESCALATE', 'ABORT']);
  });

  it('finds the worker the Director needs from a subject', () => {
    expect(neededRole('builder')).toBe('builder');
    expect(neededRole('scout-abc123')).toBe('scout');
    expect(neededRole('i2-build')).toBe('builder');
    expect(neededRole('i1-research-exec')).toBe('scout');
    expect(neededRole('agent.inspector')).toBe('inspector');
    expect(neededRole('director')).toBeUndefined();
    expect(neededRole('memory')).toBeUndefined();
  });

  it('pauses every other worker at L2, all workers at L3+, nothing below', () => {
    expect(queuesToPause({ level: 2, subject: 'builder' })).toEqual(
      WORKER_QUEUES.filter((q) => q !== 'agent.builder'),
    );
    expect(queuesToPause({ level: 2, subject: 'director' })).toEqual([...WORKER_QUEUES]);
    expect(queuesToPause({ level: 3, subject: 'builder' })).toEqual([...WORKER_QUEUES]);
    expect(queuesToPause({ level: 1, subject: 'builder' })).toEqual([]);
    expect(WORKER_QUEUES).not.toContain('agent.scribe');
  });

  it('L1 stuck agent (same error 3×): an ALERT to the Director, nothing paused, no webhook', () => {
    const calls = [1, 2, 3].map(() => ({ progress: false, error: 'E_PARSE: bad JSON' }));
    const [d] = prune(detect({ runId: 'run_a', agents: [{ role: 'builder', calls }] }, T, NOW));
    expect(d?.rule).toBe('stuck.same-error');
    const { e, steps } = judge(d as Detection, 'run_a');
    expect(e.level).toBe(1);
    expect(steps).toEqual([{ kind: 'notify-director', priority: 'HIGH' }]);
  });

  it('L2 trust < 3: emergency file, others paused, EMERGENCY ALERT, run event, log; no webhook at L2', () => {
    const [d] = detect({ runId: 'run_a', trust: { builder: 2 } }, T, NOW);
    const { e, steps, kinds } = judge(d as Detection, 'run_a');
    expect(e.level).toBe(2);
    expect(kinds).toEqual(['emergency-file', 'pause', 'notify-director', 'run-alert', 'log']);
    expect(steps).toContainEqual({ kind: 'notify-director', priority: 'EMERGENCY' });
    expect(steps).toContainEqual({ kind: 'run-alert', runIds: ['run_a'] });
    expect(steps).toContainEqual({ kind: 'log', word: 'EMERGENCY' });
    expect(steps.find((s) => s.kind === 'pause')).toEqual({
      kind: 'pause',
      queues: WORKER_QUEUES.filter((q) => q !== 'agent.builder'),
    });
  });

  it('L3 queue depth > 50 (deployment-wide): pause all, dump, alert file, every open run waits, ESCALATE, webhook', () => {
    expect(detect({ queues: { 'agent.builder': 50 } }, T, NOW)).toEqual([]);
    const [d] = detect({ queues: { 'agent.builder': 51 } }, T, NOW);
    const { e, steps, kinds } = judge(d as Detection, undefined);
    expect(e.level).toBe(3);
    expect(kinds).toEqual([
      'pause',
      'state-dump',
      'alert-file',
      'notify-director',
      'run-alert',
      'log',
      'webhook',
    ]);
    expect(steps).toContainEqual({ kind: 'run-alert', runIds: ['run_a', 'run_b'] });
    expect(steps).toContainEqual({ kind: 'log', word: 'ESCALATE' });
    expect(
      planSteps({ level: 3, rule: 'x', subject: 'y', actions: [] }, { ...ctx, webhookConfigured: false }).map(
        (s) => s.kind,
      ),
    ).not.toContain('webhook');
  });

  it('L4: the run fails first, then pause, dump, file, ABORT, webhook', () => {
    const kinds = planSteps({ level: 4, rule: 'x', subject: 'y', runId: 'run_a', actions: [] }, ctx).map(
      (s) => s.kind,
    );
    expect(kinds).toEqual([
      'run-alert',
      'pause',
      'state-dump',
      'alert-file',
      'notify-director',
      'log',
      'webhook',
    ]);
  });

  it('a webhook below L3 only when minLevel says so', () => {
    const l2 = { level: 2 as const, rule: 'x', subject: 'y', actions: [] };
    expect(planSteps(l2, ctx).map((s) => s.kind)).not.toContain('webhook');
    expect(planSteps(l2, { ...ctx, webhookMinLevel: 2 }).map((s) => s.kind)).toContain('webhook');
  });

  it('runaway: L2 first; L3 once its L2 is known as raised (guide §4.5)', () => {
    const obs = { runId: 'run_a', tasks: [{ id: 'i1-build', attempts: 6 }] };
    const [first] = detect(obs, T, NOW);
    expect(first?.level).toBe(2);
    const [second] = detect({ ...obs, raised: [first?.key ?? ''] }, T, NOW);
    expect(second?.level).toBe(3);
    expect(judge(second as Detection, 'run_a').kinds).toContain('webhook');
  });

  it('an agent stuck on one error after another reaches a human after 2 attempts', () => {
    const d = (error: string): Detection =>
      detect(
        {
          runId: 'run_a',
          agents: [{ role: 'builder', calls: [1, 2, 3].map(() => ({ progress: false, error })) }],
        },
        T,
        NOW,
      ).filter((x) => x.rule === 'stuck.same-error')[0] as Detection;
    const open: AlertRecord[] = [];
    const levels: number[] = [];
    for (const err of ['A', 'B', 'C']) {
      const det = d(err);
      const { e } = judge(det, 'run_a', open);
      levels.push(e.level);
      open.push(
        alert({ key: det.key, runId: 'run_a', rule: det.rule, subject: det.subject, level: e.level }),
      );
    }
    expect(levels).toEqual([1, 1, 3]);
  });

  it('defers a lower detection while an L3 is open for that run (or the deployment)', () => {
    const [d] = detect({ runId: 'run_a', trust: { builder: 2 } }, T, NOW);
    const l3 = alert({ key: 'other', level: 3, rule: 'resources.memory', subject: 'memory' });
    expect(judge(d as Detection, 'run_a', [l3]).steps).toEqual([]);
    expect(judge(d as Detection, 'run_a', [{ ...l3, runId: 'run_b' }]).e.level).toBe(2);
    expect(judge(d as Detection, 'run_a', [{ ...l3, status: 'resolved' }]).e.level).toBe(2);
  });

  it('drops no-progress where same-error fires for the same agent', () => {
    const calls = [1, 2, 3].map(() => ({ progress: false, error: 'E' }));
    const all = detect(
      {
        runId: 'r',
        agents: [
          { role: 'builder', calls },
          { role: 'scout', calls: calls.map(() => ({ progress: false })) },
        ],
      },
      T,
      NOW,
    );
    expect(all.map((x) => `${x.rule}:${x.subject}`).sort()).toEqual([
      'stuck.no-progress:builder',
      'stuck.no-progress:scout',
      'stuck.same-error:builder',
    ]);
    expect(
      prune(all)
        .map((x) => `${x.rule}:${x.subject}`)
        .sort(),
    ).toEqual(['stuck.no-progress:scout', 'stuck.same-error:builder']);
  });

  it('re-arms keys with a generation suffix that maps back to the detection key', () => {
    expect(alertKeyOf('alert.deployment.resources.memory.memory.L3', 0)).toBe(
      'alert.deployment.resources.memory.memory.L3',
    );
    const k = alertKeyOf('alert.deployment.resources.memory.memory.L3', 2);
    expect(k).toBe('alert.deployment.resources.memory.memory.L3.r2');
    expect(baseKeyOf(k)).toBe('alert.deployment.resources.memory.memory.L3');
    expect(familyOf({ rule: 'stuck.no-progress', subject: 'builder', runId: 'r' })).toBe(
      familyOf({ rule: 'stuck.same-error', subject: 'builder', runId: 'r' }),
    );
  });
});
