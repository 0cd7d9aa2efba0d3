// `nightshift plan` and `simulate --from-run` in-process against a real Redis: a recorded run
// (events + the gateway's call log) as history, runs waiting in `runs`, and bad input refused.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeys, createRedisClient, enqueueRun } from '@nightshift/redis';
import { startRedis, type TestRedis, uniquePrefix } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness } from '../test-support/cli-harness.js';
import { recordRun as recordRunIn } from '../test-support/recorded-run.js';

let redis: TestRedis;
const prefix = uniquePrefix();

const recordRun = (runId: string) => recordRunIn(redis.url, prefix, runId);

async function recordedForecast(runId: string): Promise<string | null> {
  const client = createRedisClient(redis.url);
  try {
    return await client.get(createKeys(prefix).custom('run', runId, 'forecast'));
  } finally {
    client.disconnect();
  }
}

const harness = () =>
  cliHarness({ REDIS_URL: redis.url, NIGHTSHIFT_PREFIX: prefix }, new Date('2026-12-07T22:00:00Z'));

let duration = 0;
beforeAll(async () => {
  redis = await startRedis();
  duration = await recordRun('run_hist1');
});
afterAll(async () => {
  await redis?.stop();
});

describe('nightshift simulate --from-run', () => {
  it('replays the run through the workflow to its own duration, and copies share the agents', async () => {
    const h = harness();
    expect(await h.run('simulate', '--from-run', 'run_hist1', '--json')).toBe(0);
    const one = JSON.parse(h.out.join(''));
    // 7 steps on the critical path (build ‖ research-exec) of 300 ms, plus the finish.
    expect(one.measuredMs).toBe(duration);
    expect(one.result.makespanMs).toBe(duration);
    const h3 = harness();
    expect(
      await h3.run('simulate', '--from-run', 'run_hist1', '--runs', '3', '--sweep', 'builder', '--max', '2'),
    ).toBe(0);
    expect(h3.out.join('')).toMatch(/3 at once/);
    expect(h3.out.join('')).toMatch(/builder=2:/);
  });

  it('refuses an unknown run with a clear error and the usage exit code', async () => {
    const h = harness();
    expect(await h.run('simulate', '--from-run', 'run_nope')).toBe(2);
    expect(h.err.join('')).toMatch(/run_nope has not finished/);
  });
});

describe('nightshift plan', () => {
  it('forecasts the runs waiting in `runs`: ETAs, slots, waits, what-ifs and --until', async () => {
    for (let i = 0; i < 3; i++)
      await enqueueRun(redis.url, { task: `task ${i}`, title: `task ${i}` }, { prefix, jobId: `jq${i}` });
    const h = harness();
    expect(await h.run('plan', '--until', '22:00', '--samples', '20')).toBe(0);
    const text = h.out.join('');
    expect(text).toMatch(/forecast of 3 run\(s\) from 1 past run/);
    for (let i = 0; i < 3; i++) expect(text).toContain(`run_jq${i}`);
    expect(text).toMatch(/slot utilisation \d+%/);
    expect(text).toMatch(/\+1 builder\s+(saves|costs)/);
    expect(text).toMatch(/\+1 slot/);
    // One past run: the p90 column says so instead of repeating the p50.
    expect(text).toMatch(/all done: p50 .*, p90 from one run: no spread/);
    // 22:00 is tomorrow's: every run makes it.
    expect(text).toMatch(/every run is expected to finish/);
    const j = harness();
    expect(await j.run('plan', '--json', '--samples', '10')).toBe(0);
    const f = JSON.parse(j.out.join('')).forecast;
    expect(f.runs).toHaveLength(3);
    expect(f.runs[0].p50Ms).toBeGreaterThanOrEqual(duration);
  });

  it('records the forecast when the night starts and reviews it against the real ends', async () => {
    await enqueueRun(redis.url, { task: 'tonight' }, { prefix, jobId: 'jr0' });
    const h = harness();
    expect(await h.run('plan', '--record', '--samples', '10')).toBe(0);
    // The first forecast stays: a second --record does not overwrite it.
    const first = await recordedForecast('run_jr0');
    expect(first).toMatch(/p50At/);
    expect(await harness().run('plan', '--record', '--samples', '5', '--parallel', '1')).toBe(0);
    expect(await recordedForecast('run_jr0')).toBe(first);
    await recordRun('run_jr0');
    const r = harness();
    expect(await r.run('plan', '--review')).toBe(0);
    const text = r.out.join('');
    expect(text).toMatch(/run_jr0 .* 21:00:0\d/);
    // The forecast learned from one past run: no spread, so no p90 to have ended by.
    expect(text).toContain('p90 from one run: no spread; mean |error|');
  });

  it('forecasts a file of tasks and refuses bad input with the reason', async () => {
    const file = join(tmpdir(), `tasks-${prefix}.txt`);
    writeFileSync(file, 'fix sum\n# a comment\nadd a test\n');
    const h = harness();
    expect(await h.run('plan', '--tasks-file', file, '--samples', '10')).toBe(0);
    expect(h.out.join('')).toMatch(/task-2 .*add a test/);
    for (const [args, why] of [
      [['--until', '25:00'], /no such time of day/],
      [['--until', 'tomorrow'], /expected HH:MM/],
      [['--tasks-file', '/nonexistent/tasks'], /cannot read it/],
      [['--agents', 'builder=x'], /expected <role>=<count>/],
      [['--parallel', '0'], /positive integer/],
      [['--director', 'gpt'], /ollama or anthropic/],
    ] as const) {
      const bad = harness();
      expect(await bad.run('plan', ...args), args.join(' ')).toBe(2);
      expect(bad.err.join('')).toMatch(why);
    }
  });
});
