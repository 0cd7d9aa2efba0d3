// Issue 7 acceptance: a scripted run driven by the real processes produces checkpoints at exactly
// the guide's triggers (asserted by list), each once, each file intact, the Director's checkpoint
// step answered with its own checkpoint; team-state.md ends in the guide's form.
import { join } from 'node:path';
import { fold } from '@nightshift/core';
import { enqueueRun } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeLog } from './agent-harness.js';
import {
  checkpointRows,
  fileIntact,
  journalIds,
  ONE_ITERATION_TRIGGERS,
  readOrEmpty,
  type Stack,
  scriptTeam,
  startStack,
  stopStack,
  teamState,
  waitForEnd,
} from './scribe-stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  scriptTeam(stack);
});

afterAll(async () => {
  await stopStack(stack);
});

describe('Scribe checkpoints in a scripted run', () => {
  it('writes one checkpoint per guide trigger, in order, plus the P2 step; team-state.md ends finished', async () => {
    const { runId } = await enqueueRun(
      stack.redis.url,
      { task: 'Add a login form', title: 'login' },
      { prefix: stack.prefix },
    );
    const events = await waitForEnd(stack, runId);
    expect(fold(events).status).toBe('finished');

    const rows = await waitFor(
      async () => {
        const list = await checkpointRows(stack, runId);
        return list.length >= ONE_ITERATION_TRIGGERS.length ? list : undefined;
      },
      { timeoutMs: 30_000, what: 'every checkpoint', intervalMs: 200 },
    );
    expect(rows.map((r) => r.trigger)).toEqual(ONE_ITERATION_TRIGGERS);
    expect(rows.map((r) => r.n)).toEqual(ONE_ITERATION_TRIGGERS.map((_, i) => i + 1));
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    for (const row of rows) expect(fileIntact(row), row.file).toBe(true);
    expect(rows.map((r) => r.file)).toEqual(
      rows.map((r) => join(stack.memoryDir, runId, 'checkpoints', `CP-${r.n}.md`)),
    );

    // The Director's P2 checkpoint step was answered with that step's own checkpoint (CP-6).
    const log = await readWholeLog(stack.bus);
    const answer = log.find(
      (e) => e.message?.runId === runId && e.message.from === 'scribe' && e.message.type === 'RESPONSE',
    );
    expect(answer?.message?.content).toMatch(
      /^Checkpoint CP-6 written: .*CP-6\.md \(decision: Continue\)\.$/,
    );
    const cp8 = readOrEmpty(rows[7]?.file ?? '');
    expect(cp8).toContain('## 4. Decision\n**Revise**');
    expect(cp8).toContain('[major] src/login.ts: no CSRF token (Inspector)');

    // team-state.md: the guide's form, the final phase, trust after the accepted work, last checkpoint.
    const text = await waitFor(
      () => (teamState(stack, runId).includes('- Status: finished') ? teamState(stack, runId) : undefined),
      {
        timeoutMs: 30_000,
        what: 'team-state.md to show the end',
      },
    );
    expect(text).toContain(
      `# ${join(stack.memoryDir, runId, 'team-state.md')}\n\n## Current Phase: 4 - Iterate\n`,
    );
    expect(text).toMatch(/^## Last Checkpoint: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(CP-10\)$/m);
    expect(text).toContain(
      '| Agent | Status | Current Task | Trust |\n|-------|--------|--------------|-------|\n| Director | Done | - | N/A |',
    );
    expect(text).toContain('| Builder | Idle | - | 8/10 |'); // accepted work: +1 (guide §5 trust)
    expect(text).toContain('| Inspector | Idle | - | 7/10 |');
    expect(text).toContain('| Scribe | Active | Maintaining state | N/A |');
    expect(text).toContain('### Next Checkpoint Trigger\n- None: the run has ended\n');

    // Every message of the run is in the Scribe's journal, once.
    const sent = log.filter((e) => e.message?.runId === runId).map((e) => e.message?.id);
    await waitFor(() => journalIds(stack, runId).length >= sent.length, {
      timeoutMs: 30_000,
      what: 'the journal',
    });
    expect(journalIds(stack, runId).sort()).toEqual([...sent].sort());
    // And a rolling summary exists, within its bound.
    const summary = await waitFor(() => stack.bus.redis.get(stack.keys.custom('run', runId, 'summary')), {
      timeoutMs: 30_000,
    });
    expect(summary.length).toBeLessThanOrEqual(8000);
  });
});
