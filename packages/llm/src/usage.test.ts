// Usage accounting per role and run, and its memory bound.
import { describe, expect, it } from 'vitest';
import { ScriptedChatModel } from './simulated.js';
import { UsageRecorder, withUsage } from './usage.js';

describe('UsageRecorder', () => {
  it('aggregates tokens and latency per role and per run', () => {
    const usage = new UsageRecorder();
    usage.record('builder', 'run_a', { usage: { inputTokens: 10, outputTokens: 5 }, latencyMs: 100 });
    usage.record('builder', 'run_b', { usage: { inputTokens: 1, outputTokens: 2 }, latencyMs: 300 });
    usage.record('scout', 'run_a', { usage: { inputTokens: 4, outputTokens: 4 }, latencyMs: 50 });
    usage.recordFailure('scout', 'run_a');
    const snap = usage.snapshot();
    expect(snap.total).toEqual({
      calls: 3,
      failures: 1,
      inputTokens: 15,
      outputTokens: 11,
      latencyMsTotal: 450,
      latencyMsMax: 300,
    });
    expect(snap.byRole.builder).toMatchObject({ calls: 2, inputTokens: 11, latencyMsMax: 300 });
    expect(snap.byRun.run_a).toMatchObject({ calls: 2, failures: 1, inputTokens: 14 });
  });

  it('bounds the number of runs it remembers', () => {
    const usage = new UsageRecorder({ maxRuns: 2 });
    for (const run of ['r1', 'r2', 'r3'])
      usage.record('scribe', run, { usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1 });
    expect(Object.keys(usage.snapshot().byRun)).toEqual(['r2', 'r3']);
  });

  it('records through the withUsage wrapper, failures included', async () => {
    const usage = new UsageRecorder();
    const model = withUsage(new ScriptedChatModel({ replies: ['ok', new Error('down')] }), usage);
    await model.chat({ role: 'inspector', runId: 'run_x', messages: [{ role: 'user', content: 'abcd' }] });
    await expect(
      model.chat({ role: 'inspector', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow('down');
    expect(usage.snapshot().byRole.inspector).toMatchObject({ calls: 1, failures: 1 });
    expect(usage.snapshot().byRun.run_x).toMatchObject({ calls: 1, failures: 0 });
  });
});
