// Issue 7 acceptance: the Scribe down must not stop the team. kill -9 the Scribe for the middle
// third of a run (from the Scout's planning research until the Director's checkpoint REQUEST
// waits on queue agent.scribe), restart it: the run finishes, and the Scribe's files hold every message of that
// third and a checkpoint for every trigger that happened meanwhile. A corrupted checkpoint record
// or file is then reported with its path and skipped to the previous good one, never a crash.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fold } from '@nightshift/core';
import { newId } from '@nightshift/protocol';
import { enqueueRun } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeLog, type ServiceProcess } from './agent-harness.js';
import {
  checkpointRows,
  fileIntact,
  journalIds,
  ONE_ITERATION_TRIGGERS,
  runEvents,
  type Stack,
  scriptTeam,
  startService,
  startStack,
  stopStack,
  teamState,
  waitForEnd,
} from './scribe-stack.js';
import { ROOT } from './support/stack.js';

let stack: Stack;
let runId: string;

beforeAll(async () => {
  stack = await startStack();
  // The Scout's research (P1) takes 2 s: everything from its answer on happens while the Scribe is down.
  scriptTeam(stack, { scoutPlanMs: 2000, scoutExecMs: 1500 });
});

afterAll(async () => {
  await stopStack(stack);
});

/** Runs the real `nightshift` bin against the stack's Redis. */
function nightshift(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), ...args], {
    env: { ...stack.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Stream ids in stream order (`<ms>-<seq>`; a string compare would put `-10` before `-9`). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

describe('Scribe down for the middle third of a run', () => {
  it('does not stop the team; after its restart its files hold every message of that third', async () => {
    const scribe = stack.procs.find((p) => p.name === 'scribe') as ServiceProcess;
    ({ runId } = await enqueueRun(
      stack.redis.url,
      { task: 'Add a login form (outage)' },
      { prefix: stack.prefix },
    ));
    await waitFor(
      async () =>
        (await runEvents(stack, runId)).some((e) => e.type === 'step.requested' && e.step === 'research'),
      { timeoutMs: 90_000, intervalMs: 20, what: "the Scout's planning research to start" },
    );
    scribe.child.kill('SIGKILL');
    await scribe.exited;
    const killedAt = (await stack.bus.readLog({ reverse: true, count: 1 }))[0]?.id ?? '0-0';

    // The team goes on: Builder and Scout finish, the Director's checkpoint REQUEST waits queued.
    await waitFor(
      async () =>
        (await runEvents(stack, runId)).some((e) => e.type === 'step.requested' && e.step === 'checkpoint'),
      { timeoutMs: 90_000, what: 'the checkpoint step to be requested while the Scribe is down' },
    );
    const restartedAt = (await stack.bus.readLog({ reverse: true, count: 1 }))[0]?.id ?? '0-0';
    startService(stack, 'scribe', 'scribe-2');

    const events = await waitForEnd(stack, runId);
    expect(fold(events).status).toBe('finished');

    const log = (await readWholeLog(stack.bus)).filter((e) => e.message?.runId === runId);
    const third = log
      .filter((e) => compareIds(e.id, killedAt) > 0 && compareIds(e.id, restartedAt) <= 0)
      .map((e) => e.message?.id);
    // While it was down: the Scout's answer, the P2 broadcast, both REQUESTs and answers, the checkpoint REQUEST.
    expect(third.length).toBeGreaterThanOrEqual(6);
    await waitFor(() => journalIds(stack, runId).length >= log.length, {
      timeoutMs: 30_000,
      what: 'the journal',
    });
    const journal = journalIds(stack, runId);
    for (const id of third) expect(journal).toContain(id);
    expect(journal.sort()).toEqual(log.map((e) => e.message?.id).sort()); // all, each once

    const rows = await waitFor(
      async () => {
        const list = await checkpointRows(stack, runId);
        return list.length >= ONE_ITERATION_TRIGGERS.length ? list : undefined;
      },
      { timeoutMs: 30_000, what: 'every checkpoint' },
    );
    expect(rows.map((r) => r.trigger)).toEqual(ONE_ITERATION_TRIGGERS);
    // The checkpoints due during the outage (Scout, P2, Builder, Scout) were written after it.
    for (const row of rows.slice(1, 5)) {
      const { at, writtenAt } = row as unknown as { at: string; writtenAt: string };
      expect(Date.parse(writtenAt)).toBeGreaterThan(Date.parse(at));
    }
    for (const row of rows) expect(fileIntact(row)).toBe(true);
    await waitFor(() => teamState(stack, runId).includes('- Status: finished'), {
      timeoutMs: 30_000,
      what: 'team-state.md',
    });
    expect(teamState(stack, runId)).toContain('(CP-10)');
  });

  it('reports a corrupted checkpoint record and file with their paths and skips to the previous good one', async () => {
    const listKey = stack.keys.runCheckpoints(runId);
    const rows = await checkpointRows(stack, runId);
    await stack.bus.redis.lset(listKey, rows.length - 1, '{"n":10,"trig'); // CP-10's record is cut short
    const cp9 = rows[8]?.file as string;
    appendFileSync(cp9, '\n\u0000\u0000 disk garbage'); // CP-9's file no longer matches its sha256

    const resumed = await nightshift('resume', runId, '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`${listKey}[9]`);
    expect(resumed.stderr).toContain(cp9);
    const report = JSON.parse(resumed.stdout) as {
      lastCheckpoint: { n: number };
      status: string;
      checkpointProblems: unknown[];
    };
    expect(report.lastCheckpoint.n).toBe(8);
    expect(report.status).toBe('finished');
    expect(report.checkpointProblems).toHaveLength(2);

    // The Scribe does the same: it keeps running and team-state.md falls back to CP-8.
    await stack.bus.publish({
      id: newId('msg'),
      runId,
      from: 'human',
      to: 'ALL',
      type: 'STATUS',
      priority: 'LOW',
      timestamp: new Date().toISOString(),
      content: 'Morning review started.',
    });
    await waitFor(() => teamState(stack, runId).includes('(CP-8)'), {
      timeoutMs: 30_000,
      what: 'team-state.md to show CP-8',
    });
    expect(stack.procs.find((p) => p.name === 'scribe-2')?.alive).toBe(true);
  });
});
