import { DEFAULT_DETECTION_THRESHOLDS, detect } from '@nightshift/core';
import type { Message } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { AgentWindow, compareStreamIds, errorOf } from './agents.js';

let seq = 0;
function msg(partial: Partial<Message>): [string, Message] {
  seq++;
  return [
    `1000-${seq}`,
    {
      id: `msg_${seq}`,
      runId: 'run_a',
      from: 'builder',
      to: 'director',
      type: 'ALERT',
      priority: 'HIGH',
      timestamp: new Date(1_000_000 + seq * 1000).toISOString(),
      content: `builder failed request msg_r${seq} (attempt 1): model reply is not JSON`,
      context: 'code: BAD_REPLY',
      ...partial,
    },
  ];
}

describe('agent window', () => {
  it('orders stream ids numerically', () => {
    expect(compareStreamIds('9-1', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-2')).toBe(0);
  });

  it('takes the error without the request id and attempt, with the code', () => {
    expect(errorOf({ content: 'builder failed request msg_1 (attempt 2): boom', context: 'code: X' })).toBe(
      'X: boom',
    );
    expect(errorOf({ content: 'something odd' })).toBe('something odd');
  });

  it('turns the same ALERT 3× into a stuck.same-error detection for that agent, and a RESPONSE clears it', () => {
    const w = new AgentWindow();
    for (let i = 0; i < 3; i++) w.record(...msg({}));
    const obs = { runId: 'run_a', agents: w.observe('run_a') };
    const found = detect(obs, DEFAULT_DETECTION_THRESHOLDS, 2_000_000);
    expect(found.map((d) => d.rule)).toContain('stuck.same-error');
    expect(found.find((d) => d.rule === 'stuck.same-error')?.subject).toBe('builder');
    expect(w.progressed('run_a', 'builder')).toBe(false);
    w.record(...msg({ type: 'RESPONSE', content: 'done' }));
    expect(w.progressed('run_a', 'builder')).toBe(true);
    expect(
      detect({ runId: 'run_a', agents: w.observe('run_a') }, DEFAULT_DETECTION_THRESHOLDS, 2_000_000),
    ).toEqual([]);
  });

  it('skips entries it has applied, other runs, the Director and STATUS messages', () => {
    const w = new AgentWindow();
    const entry = msg({});
    expect(w.record(...entry)).toBe(true);
    expect(w.record(...entry)).toBe(false);
    w.record(...msg({ from: 'director', to: 'builder', type: 'ALERT' }));
    w.record(...msg({ type: 'STATUS', content: 'Working on msg_x' }));
    w.record(...msg({ runId: 'run_b' }));
    w.record(...msg({ runId: 'run_c', type: 'STATUS', content: 'Working on msg_y' }));
    expect(w.observe('run_c')).toEqual([]);
    expect(w.observe('run_a')).toEqual([
      { role: 'builder', calls: [{ progress: false, error: 'BAD_REPLY: model reply is not JSON' }] },
    ]);
    expect(w.observe('run_b')).toHaveLength(1);
  });

  it('adds busy agents seen only in the active jobs', () => {
    const w = new AgentWindow();
    expect(w.observe('run_a', { scout: 5 })).toEqual([{ role: 'scout', calls: [], busySince: 5 }]);
  });

  it('counts a STATUS as a sign of life for "stuck > 10 min", not as a call', () => {
    const w = new AgentWindow();
    const [id, status] = msg({ type: 'STATUS', content: 'tool read_file ok' });
    w.record(id, status);
    const statusAt = Date.parse(status.timestamp);
    const [agent] = w.observe('run_a', { builder: statusAt - 60 * 60_000 });
    expect(agent).toEqual({ role: 'builder', calls: [], busySince: statusAt });
    const T = DEFAULT_DETECTION_THRESHOLDS;
    expect(detect({ runId: 'run_a', agents: [agent as never] }, T, statusAt + T.agentStuckMs)).toEqual([]);
    const late = detect({ runId: 'run_a', agents: [agent as never] }, T, statusAt + T.agentStuckMs + 1);
    expect(late.map((d) => d.rule)).toEqual(['emergency.agent-stuck']);
  });
});
