// Issue 7 acceptance (chaos): kill -9 every service in the middle of P2 — the Builder's component
// done, the Scout still researching — and restart Redis too (AOF, killed hard). Restart all
// services; `nightshift resume --wait` finishes the run. The Builder's completed component is not
// rebuilt (asserted from the fake Ollama's request log) and no checkpoint is missing or duplicated.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fold } from '@nightshift/core';
import { enqueueRun } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointRows,
  fileIntact,
  ONE_ITERATION_TRIGGERS,
  runEvents,
  type Stack,
  scriptTeam,
  startService,
  startStack,
  stopStack,
  TEAM,
  teamState,
} from './scribe-stack.js';
import { ROOT } from './support/stack.js';

const TASK = 'CRASH-TEST: add a login form';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ aof: true });
  // The Scout's research in P2 takes 8 s: the crash comes after the build, before it.
  scriptTeam(stack, { scoutExecMs: 8000 });
});

afterAll(async () => {
  await stopStack(stack);
});

function buildCalls(): number {
  return stack.ollama.records.filter((r) => {
    if (r.role !== 'builder') return false;
    const text = JSON.stringify(r.messages);
    return text.includes(TASK) && text.includes('Implement the design');
  }).length;
}

function resumeWait(runId: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), 'resume', runId, '--wait'], {
    env: stack.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

describe('every service killed mid-P2, Redis restarted with AOF', () => {
  it('resumes and finishes: nothing finished is redone, no checkpoint missing or duplicated', async () => {
    const { runId } = await enqueueRun(
      stack.redis.url,
      { task: TASK, title: 'crash' },
      { prefix: stack.prefix },
    );
    await waitFor(
      async () => {
        const state = fold(await runEvents(stack, runId));
        return state.progress.build?.done === true && state.inFlight['research-exec'] !== undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 100,
        what: `the build done while the Scout still researches\n${stack.procs.map((p) => p.tail(8)).join('\n')}`,
      },
    );
    expect(buildCalls()).toBe(1);

    // kill -9 everything, then Redis itself (SIGKILL: only its AOF survives).
    const alive = stack.procs.filter((p) => p.alive);
    for (const p of alive) p.child.kill('SIGKILL');
    await Promise.all(alive.map((p) => p.exited));
    await stack.redis.restart({ hard: true });
    const before = fold(await runEvents(stack, runId));
    expect(before.progress.build?.done).toBe(true); // the AOF kept the event log

    for (const name of TEAM) startService(stack, name, `${name}-2`);
    const resumed = await resumeWait(runId);
    expect(resumed.code, `${resumed.out}\n${stack.procs.map((p) => p.tail(10)).join('\n')}`).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`run ${runId} finished`));
    expect(resumed.out).toContain('the Director was nudged');

    const events = await runEvents(stack, runId);
    const state = fold(events);
    expect(state.status).toBe('finished');
    expect(state.phases.map((p) => p.phase)).toEqual([1, 2, 3, 4]);
    // The component was built once: one build request at Ollama, one completion in the log.
    expect(buildCalls()).toBe(1);
    expect(events.filter((e) => e.type === 'step.completed' && e.step === 'build')).toHaveLength(1);

    const rows = await waitFor(
      async () => {
        const list = await checkpointRows(stack, runId);
        return list.length >= ONE_ITERATION_TRIGGERS.length ? list : undefined;
      },
      { timeoutMs: 60_000, what: 'every checkpoint after the restart' },
    );
    expect(rows.map((r) => r.trigger)).toEqual(ONE_ITERATION_TRIGGERS);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    for (const row of rows) expect(fileIntact(row), row.file).toBe(true);
    await waitFor(() => teamState(stack, runId).includes('- Status: finished'), {
      timeoutMs: 30_000,
      what: 'team-state.md',
    });
  });
});
