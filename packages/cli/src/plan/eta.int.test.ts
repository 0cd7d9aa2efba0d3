// Issue 24 §3: the ETA of each queued and running run, through the client (as the dashboard and
// scripts read it) and `nightshift status`, against a real Redis: a run under way re-forecast from
// where it is, a queued run behind it, the cache, and honest output when there is no history.
import { NO_HISTORY, openControl, StatusSchema } from '@nightshift/client';
import { NO_SPREAD } from '@nightshift/core';
import { enqueueRun, QUEUE_NAMES } from '@nightshift/redis';
import { startRedis, type TestRedis, uniquePrefix } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness } from '../test-support/cli-harness.js';
import { FINISH_MS, RUN_T0, recordRun, STEP_MS } from '../test-support/recorded-run.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const cli = (prefix: string) => cliHarness({ REDIS_URL: redis.url, NIGHTSHIFT_PREFIX: prefix });

const control = (prefix: string, nowMs: number, cacheMs = 0) =>
  openControl({
    url: redis.url,
    prefix,
    now: () => new Date(nowMs),
    eta: { historyRuns: 20, samples: 20, cacheMs },
  });

describe('the ETA of queued and running runs', () => {
  it('says "no history yet" for a queued run when no run has finished, in status and its JSON', async () => {
    const prefix = uniquePrefix();
    await enqueueRun(redis.url, { task: 'first night' }, { prefix, jobId: 'first' });
    const json = cli(prefix);
    expect(await json.run('status', '--json'), json.err.join('')).toBe(0);
    const status = StatusSchema.parse(JSON.parse(json.out.join('')));
    expect(status.eta.history).toBe(0);
    expect(status.eta.runs).toEqual([
      { runId: 'run_first', state: 'queued', p50At: null, p90At: null, note: NO_HISTORY },
    ]);
    const text = cli(prefix);
    expect(await text.run('status')).toBe(0);
    expect(text.out.join('')).toMatch(/run_first\s+queued\s+- \(no history yet/);
  });

  it('re-forecasts a run under way from its position: done steps skipped, the steps in flight only their rest', async () => {
    const prefix = uniquePrefix();
    await recordRun(redis.url, prefix, 'run_past');
    // Cut 100 ms after build ‖ research-exec were requested (P1's three steps took 3 × 300 ms).
    const cut = 3 * STEP_MS + 50 + 100;
    const now = RUN_T0 + 60_000 + cut;
    await recordRun(redis.url, prefix, 'run_live', { t0: RUN_T0 + 60_000, stopAtMs: cut });
    const c = control(prefix, now);
    try {
      const board = await c.etas();
      expect(board.history).toBe(1);
      // 150 ms left of build ‖ research-exec (of 250 after the REQUEST), then checkpoint, refactor,
      // inspect and verify (300 ms each) and the finish.
      const rest = 150 + 4 * STEP_MS + FINISH_MS;
      expect(board.runs).toEqual([
        {
          runId: 'run_live',
          state: 'running',
          p50At: new Date(now + rest).toISOString(),
          // One past run: no spread to take a p90 from, and it says so.
          p90At: null,
          note: NO_SPREAD,
        },
      ]);
      // The run list and the run's record carry it; an ended run has none.
      const listed = await c.listRuns();
      expect(listed.find((r) => r.runId === 'run_live')?.eta?.p50At).toBe(new Date(now + rest).toISOString());
      expect(listed.find((r) => r.runId === 'run_past')?.eta).toBeNull();
      expect((await c.getRun('run_live')).detail.eta?.state).toBe('running');

      // Build's REQUEST waits in `agent.builder`, no Builder has taken it: none of it has run, so
      // all of it is ahead (250 ms), not what is left after the time since its REQUEST.
      await c.parts.queue(QUEUE_NAMES.agent('builder')).add('request', {}, { jobId: 'm-run_live-build' });
      const waiting = (await c.etas()).runs[0];
      expect(waiting?.p50At).toBe(new Date(now + 250 + 4 * STEP_MS + FINISH_MS).toISOString());

      // A run queued behind it shares the team: it ends after a run's full length, and the run
      // under way never ends sooner for it.
      await enqueueRun(redis.url, { task: 'next' }, { prefix, jobId: 'next' });
      const shared = await c.etas();
      const live = shared.runs.find((r) => r.runId === 'run_live');
      const next = shared.runs.find((r) => r.runId === 'run_next');
      expect(next?.state).toBe('queued');
      expect(Date.parse(next?.p50At ?? '')).toBeGreaterThanOrEqual(now + 7 * STEP_MS + FINISH_MS);
      expect(Date.parse(live?.p50At ?? '')).toBeGreaterThanOrEqual(now + 250 + 4 * STEP_MS + FINISH_MS);
    } finally {
      await c.close();
    }
    // `nightshift status` prints it for the run in focus and in the ETA list.
    const text = cli(prefix);
    expect(await text.run('status', '--run', 'run_live')).toBe(0);
    expect(text.out.join('')).toMatch(
      / {2}ETA: p50 \d\d:\d\d:\d\d \(in .*\) · p90 - \(p90 from one run: no spread\)/,
    );
    expect(text.out.join('')).toMatch(/run_live\s+running\s+p50/);
    expect(text.out.join('')).toMatch(/forecast at .* from 1 past run\(s\)/);
  });

  it('reuses one forecast for the cache time, then forecasts again', async () => {
    const prefix = uniquePrefix();
    await recordRun(redis.url, prefix, 'run_past');
    await enqueueRun(redis.url, { task: 'a' }, { prefix, jobId: 'a' });
    let now = RUN_T0;
    const c = openControl({
      url: redis.url,
      prefix,
      now: () => new Date(now),
      eta: { historyRuns: 20, samples: 10, cacheMs: 5000 },
    });
    try {
      const first = await c.etas();
      expect(first.runs.map((r) => r.runId)).toEqual(['run_a']);
      await enqueueRun(redis.url, { task: 'b' }, { prefix, jobId: 'b' });
      now += 4999;
      expect(await c.etas()).toBe(first);
      now += 1;
      const second = await c.etas();
      expect(second.madeAt).toBe(new Date(now).toISOString());
      expect(second.runs.map((r) => r.runId)).toEqual(['run_a', 'run_b']);
    } finally {
      await c.close();
    }
  });
});
