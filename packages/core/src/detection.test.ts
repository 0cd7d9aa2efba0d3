import { IdSchema } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import {
  type CallObservation,
  detect,
  type Observation,
  DEFAULT_DETECTION_THRESHOLDS as T,
} from './detection.js';

const NOW = Date.parse('2026-01-28T04:00:00Z');
const rules = (o: Observation) => detect(o, T, NOW).map((d) => `${d.rule}@L${d.level}`);
const calls = (n: number, call: CallObservation): CallObservation[] => Array.from({ length: n }, () => call);
const agent = (c: CallObservation[], extra = {}) => ({
  agents: [{ role: 'builder' as const, calls: c, ...extra }],
});

describe('detect: each rule at and just below the guide threshold', () => {
  it.each([
    [
      'stuck: no progress in 3 consecutive calls → L1',
      agent(calls(3, { progress: false })),
      agent([{ progress: true }, ...calls(2, { progress: false })]),
      'stuck.no-progress@L1',
    ],
    [
      'stuck: the same error 3 times → L1',
      agent(calls(3, { progress: true, error: 'ENOENT x' })),
      agent([{ progress: true, error: 'other' }, ...calls(2, { progress: true, error: 'ENOENT x' })]),
      'stuck.same-error@L1',
    ],
    [
      'conflict: disagreement above the threshold → L2',
      { disagreements: [{ id: 'debate-1', value: 0.51 }] },
      { disagreements: [{ id: 'debate-1', value: 0.5 }] },
      'conflict.disagreement@L2',
    ],
    ['resources: memory > 90% → L3', { memoryPercent: 90.1 }, { memoryPercent: 90 }, 'resources.memory@L3'],
    [
      'resources: queue depth > 50 → L3',
      { queues: { llm: 51 } },
      { queues: { llm: 50 } },
      'resources.queue-depth@L3',
    ],
    [
      'resources: LLM latency > 5 min → L3',
      { llmLatencyMs: 300_001 },
      { llmLatencyMs: 300_000 },
      'resources.llm-latency@L3',
    ],
    [
      'resources (issue 20): a prompt that may have been cut to fit num_ctx → L1',
      { runId: 'run_1', promptCuts: 1 },
      { runId: 'run_1', promptCuts: 0 },
      'resources.prompt-cut@L1',
    ],
    [
      'quality: > 5 critical bugs in one review → L2',
      { reviews: [{ id: 'rev-1', criticalBugs: 6 }] },
      { reviews: [{ id: 'rev-1', criticalBugs: 5 }] },
      'quality.critical-bugs@L2',
    ],
    [
      'runaway: same task > 5 attempts → L2',
      { tasks: [{ id: 'build', attempts: 6 }] },
      { tasks: [{ id: 'build', attempts: 5 }] },
      'runaway.attempts@L2',
    ],
    [
      'runaway: phase > 2× expected → L2',
      { phase: { phase: 2, iteration: 1, startedAt: NOW - 2_000_001, expectedMs: 1_000_000 } },
      { phase: { phase: 2, iteration: 1, startedAt: NOW - 2_000_000, expectedMs: 1_000_000 } },
      'runaway.phase-duration@L2',
    ],
    [
      'emergency: trust < 3 → L2',
      { trust: { builder: 2 } },
      { trust: { builder: 3 } },
      'emergency.trust-low@L2',
    ],
    [
      'emergency: an agent stuck > 10 min → L2',
      agent([], { busySince: NOW - 600_001 }),
      agent([], { busySince: NOW - 600_000 }),
      'emergency.agent-stuck@L2',
    ],
    [
      'emergency: the Director silent past the limit → L2',
      { director: { lastHeartbeatAt: NOW - 120_001 } },
      { director: { lastHeartbeatAt: NOW - 120_000 } },
      'emergency.director-silent@L2',
    ],
  ] as Array<[string, Observation, Observation, string]>)('%s', (_name, at, below, expected) => {
    expect(rules(at)).toEqual([expected]);
    expect(rules(below)).toEqual([]);
  });

  it('conditions without a number fire on sight: contradictions, design flaws, critical errors', () => {
    expect(
      rules({
        conflicts: [{ id: 'c1', roles: ['builder', 'scout'], description: 'REST vs GraphQL' }],
        designFlaws: [{ id: 'f1', description: 'no auth boundary' }],
        criticalErrors: [{ id: 'e1', description: 'workspace deleted', role: 'builder' }],
      }).sort(),
    ).toEqual(['conflict.contradiction@L2', 'emergency.critical-error@L2', 'quality.design-flaw@L2']);
  });

  it('a run whose prompts keep being cut is one incident, not one per cut', () => {
    const keys = [1, 2, 7].map((n) => detect({ runId: 'run_1', promptCuts: n }, T, NOW)[0]?.key);
    expect(new Set(keys).size).toBe(1);
    expect(detect({ runId: 'run_2', promptCuts: 1 }, T, NOW)[0]?.key).not.toBe(keys[0]);
    expect(detect({ runId: 'run_1', promptCuts: 3 }, { ...T, promptCuts: 3 }, NOW)).toEqual([]);
  });

  it('an idle agent is never stuck, and progress resets the 10-minute clock', () => {
    expect(rules(agent([]))).toEqual([]);
    expect(rules(agent([], { busySince: NOW - 3_600_000, lastProgressAt: NOW - 60_000 }))).toEqual([]);
  });
});

describe('detect: runaway goes Level 2, then Level 3', () => {
  it('fires L3 when its L2 key was already raised', () => {
    const o: Observation = { runId: 'run-1', tasks: [{ id: 'build', attempts: 7 }] };
    const [first] = detect(o, T, NOW);
    expect(first?.level).toBe(2);
    const [second] = detect({ ...o, raised: [first?.key ?? ''] }, T, NOW);
    expect(second).toMatchObject({ rule: 'runaway.attempts', level: 3 });
    expect(second?.key).not.toBe(first?.key);
  });
});

describe('detect: keys', () => {
  it('are stable for the same incident, id-safe, and new after progress', () => {
    const o = { runId: 'run-1', ...agent(calls(4, { progress: false }), { lastProgressAt: NOW - 5000 }) };
    const a = detect(o, T, NOW);
    const b = detect(
      { ...o, agents: [{ ...o.agents[0], calls: calls(5, { progress: false }) }] } as Observation,
      T,
      NOW + 9000,
    );
    expect(a.map((d) => d.key)).toEqual(b.map((d) => d.key));
    for (const d of a) expect(IdSchema.safeParse(d.key).success).toBe(true);
    const later = detect({ ...o, agents: [{ ...o.agents[0], lastProgressAt: NOW }] } as Observation, T, NOW);
    expect(later[0]?.key).not.toBe(a[0]?.key);
  });

  it('stay id-safe and short for long, odd subjects', () => {
    const [d] = detect({ queues: { [`q:${'x'.repeat(300)} ü`]: 99 } }, T, NOW);
    expect(d?.key.length).toBeLessThanOrEqual(128);
    expect(IdSchema.safeParse(d?.key).success).toBe(true);
  });

  it('respect thresholds passed in (config owns the values)', () => {
    expect(detect({ queues: { llm: 20 } }, { ...T, queueDepth: 10 }, NOW)).toHaveLength(1);
    expect(() => detect({ director: { lastHeartbeatAt: 'never' } }, T, NOW)).toThrow(/lastHeartbeatAt/);
  });
});

describe('queue depth: a stuck team or a harmless backlog (issue 21)', () => {
  const only = (o: Observation) => detect(o, T, NOW).map((d) => `${d.rule}@L${d.level} ${d.subject}`);

  it('the team’s own requests piling up while the model answers → L3, whatever the background', () => {
    expect(
      only({ queues: { llm: 51 }, backgroundQueues: { llm: 0 }, provider: { queue: 'llm', down: false } }),
    ).toEqual(['resources.queue-depth@L3 llm']);
    expect(only({ queues: { llm: 50 }, backgroundQueues: { llm: 150 } })).toEqual([]);
  });

  it('background calls count against their own, higher threshold', () => {
    expect(only({ queues: { llm: 3 }, backgroundQueues: { llm: 78 } })).toEqual([]);
    expect(only({ queues: { llm: 3 }, backgroundQueues: { llm: 200 } })).toEqual([]);
    expect(only({ queues: { llm: 3 }, backgroundQueues: { llm: 201 } })).toEqual([
      'resources.queue-depth@L3 llm:background',
    ]);
    expect(detect({ backgroundQueues: { llm: 11 } }, { ...T, backgroundQueueDepth: 10 }, NOW)).toHaveLength(
      1,
    );
  });

  it('a provider known to be down → provider-down at L1 instead of a queue-depth L3 on its queue', () => {
    const down = {
      queues: { llm: 60, 'agent.builder': 2 },
      backgroundQueues: { llm: 300 },
      provider: { queue: 'llm', down: true, since: NOW - 90_000 },
    };
    const found = detect(down, T, NOW);
    expect(found.map((d) => `${d.rule}@L${d.level} ${d.subject}`)).toEqual([
      'resources.provider-down@L1 llm',
    ]);
    expect(found[0]?.reason).toMatch(/not answering \(for 1.5 min\); 360 call\(s\) wait for it/);
  });

  it('the outage explains only its own queue: another queue piling up is still L3', () => {
    expect(
      only({ queues: { llm: 60, 'agent.builder': 51 }, provider: { queue: 'llm', down: true } }).sort(),
    ).toEqual(['resources.provider-down@L1 llm', 'resources.queue-depth@L3 agent.builder']);
  });

  it('each outage is its own incident (anchored at when it began); the provider back clears it', () => {
    const at = (since: number) =>
      detect({ provider: { queue: 'llm', down: true, since } }, T, NOW).map((d) => d.key);
    expect(at(NOW - 1000)).toEqual(at(NOW - 1000));
    expect(at(NOW - 1000)).not.toEqual(at(NOW - 5000));
    expect(detect({ queues: { llm: 60 }, provider: { queue: 'llm', down: false } }, T, NOW)).toMatchObject([
      { rule: 'resources.queue-depth', level: 3 },
    ]);
    expect(detect({ provider: { queue: 'llm', down: false } }, T, NOW)).toEqual([]);
  });
});
