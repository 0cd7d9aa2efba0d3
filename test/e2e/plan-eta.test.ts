// Issue 24 acceptance, by the real processes (`nightshift up --sim`, the built `nightshift` CLI,
// the dashboard's REST API, @nightshift/client): `nightshift plan` on a queue of 5 demo tasks
// prints per-run ETAs and records them; `nightshift status`, the client and the API show each
// run's ETA mid-run; after the runs finish, the morning report shows forecast vs actual for each.
// "Mid-run" without timing: the Architect's queue is paused, so every run waits at `design` until
// the test resumes it — before `plan --record`, so the recorded forecast is of a team at work
// (recorded while the Architect was still paused, every end came out late by the seconds a CLI
// process took to resume it: docs/planning.md). Failure paths: a bad --until, plan with an empty queue, status of a run
// while no run has finished (no history).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_HISTORY, openControl, readRecordedRun, StatusSchema } from '@nightshift/client';
import { createKeys, createRedisClient, createRunStore, enqueueRun } from '@nightshift/redis';
import { freePort, startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readRunState,
  runCliProcess,
  simEnv,
  stopAll,
  waitRunEnd,
  waitStackUp,
} from './support/sim-night.js';
import { type SimStack, startSimStack } from './support/sim-stack.js';
import { ROOT } from './support/stack.js';

const TASK =
  'The sum() function in src/sum.js gives wrong totals and `npm test` fails. Find the bug, fix it without changing the API, and make the tests pass.';
let redis: TestRedis;
let stack: SimStack | undefined;
let env: NodeJS.ProcessEnv;
let dashboard: string;
const dir = mkdtempSync(join(tmpdir(), 'ns-plan-eta-'));
const workspaces = join(dir, 'workspaces');
const prefix = uniquePrefix();
const keys = createKeys(prefix);

const cli = (...args: string[]) => runCliProcess(env, dir, args);

/** A demo task on its own copy of the sample workspace (under WORKSPACE_DIR, a workspace root). */
async function enqueueDemo(name: string): Promise<string> {
  const workspace = join(workspaces, name);
  cpSync(join(ROOT, 'examples/sample-workspace'), workspace, { recursive: true });
  const { runId } = await enqueueRun(redis.url, { task: TASK, title: name, workspace }, { prefix });
  return runId;
}

const runState = (runId: string) => readRunState(redis.url, keys, runId);

/** Waits until the Director has the run and it asked for its design (the Architect's queue is paused). */
async function waitingForDesign(runId: string): Promise<void> {
  await waitFor(async () => (await runState(runId)).inFlight.design !== undefined, {
    timeoutMs: 120_000,
    intervalMs: 300,
    what: `run ${runId} to ask the Architect\n${stack?.output().slice(-2000)}`,
  });
}

/**
 * The night as recorded (events and the gateway's call log of every run, the recorded forecasts)
 * to test-artifacts/plan-eta-night.json: what docs/planning.md compares step by step with the
 * simulated night.
 */
async function dumpNight(night: readonly string[]): Promise<void> {
  const client = createRedisClient(redis.url);
  try {
    const store = createRunStore(client, keys);
    const runs: Record<string, unknown> = {};
    for (const id of await store.list())
      runs[id] = {
        ...(await readRecordedRun(client, store, keys, id)),
        forecast: await client.get(keys.custom('run', id, 'forecast')),
      };
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    writeFileSync(join(ROOT, 'test-artifacts', 'plan-eta-night.json'), JSON.stringify({ night, runs }));
  } finally {
    client.disconnect();
  }
}

async function finished(runId: string): Promise<void> {
  expect((await waitRunEnd(redis.url, keys, runId, stack, 300_000)).status).toBe('finished');
}

beforeAll(async () => {
  redis = await startRedis();
  const port = await freePort();
  dashboard = `http://127.0.0.1:${port}`;
  env = {
    ...simEnv({ dir, redisUrl: redis.url, prefix, dashboardPort: port, workspaces }),
    // Every reader forecasts afresh: the test reads ETAs right after the queue changes.
    ETA_CACHE_MS: '0',
    // History: the two newest finished runs — not the first one, which waited at design while
    // the test looked at it. Two runs give the p90 a spread to come from.
    PLAN_HISTORY_RUNS: '2',
  };
  stack = startSimStack({ env, dataDir: join(dir, 'data'), cwd: dir });
  await waitStackUp(stack, { url: redis.url, keys, roles: ['director', 'architect', 'builder'], dashboard });
}, 180_000);

afterAll(() => stopAll(stack, redis, dir));

describe('plan the night and hold the ETA (issue 24)', () => {
  it('refuses plan on an empty queue and a bad --until, with the reason and exit code 2', async () => {
    const empty = await cli('plan');
    expect(empty.code, empty.stdout + empty.stderr).toBe(2);
    expect(empty.stderr).toMatch(/nothing to plan: no run waits in `runs` or is under way/);
    const bad = await cli('plan', '--until', '25:00');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--until 25:00: no such time of day/);
  });

  it('a run while no run has finished: status says "no history yet", and plan refuses to guess', async () => {
    expect((await cli('agents', 'pause', 'architect')).code).toBe(0);
    const first = await enqueueDemo('warm-up');
    await waitingForDesign(first);
    const json = await cli('status', '--run', first, '--json');
    expect(json.code, json.stderr).toBe(0);
    const status = StatusSchema.parse(JSON.parse(json.stdout));
    expect(status.run?.eta).toEqual({
      runId: first,
      state: 'running',
      p50At: null,
      p90At: null,
      note: NO_HISTORY,
    });
    const text = await cli('status', '--run', first);
    expect(text.stdout).toContain(`ETA: - (${NO_HISTORY})`);
    const plan = await cli('plan');
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(/no history/);
    expect((await cli('agents', 'resume', 'architect')).code).toBe(0);
    await finished(first);
    // Two runs nobody held up, one after the other: tonight's history (PLAN_HISTORY_RUNS=2).
    await finished(await enqueueDemo('warm-up-2'));
    await finished(await enqueueDemo('warm-up-3'));
  });

  it('plan on a queue of 5 demo tasks prints per-run ETAs; status, the client and the API show them mid-run; the report compares forecast and actual', async () => {
    expect((await cli('agents', 'pause', 'architect')).code).toBe(0);
    const runs: string[] = [];
    for (let i = 1; i <= 5; i++) runs.push(await enqueueDemo(`task-${i}`));
    for (const runId of runs) await waitingForDesign(runId);

    // Mid-run (every run waits at design): an ETA for each, from the client, status and the API.
    const control = openControl({
      url: redis.url,
      prefix,
      eta: { historyRuns: 2, samples: 50, cacheMs: 0 },
    });
    try {
      const board = await control.etas();
      expect(board.history).toBe(2);
      expect(board.runs.map((r) => r.runId).sort()).toEqual([...runs].sort());
      for (const eta of board.runs) {
        expect(eta.state).toBe('running');
        expect(Date.parse(eta.p50At ?? '')).toBeGreaterThan(Date.parse(board.madeAt));
        expect(Date.parse(eta.p90At ?? '')).toBeGreaterThanOrEqual(Date.parse(eta.p50At ?? ''));
      }
    } finally {
      await control.close();
    }
    const status = await cli('status', '--run', runs[0] as string);
    expect(status.stdout).toMatch(/ {2}ETA: p50 \d\d:\d\d:\d\d \(in [^)]+\) · p90 \d\d:\d\d:\d\d/);
    for (const runId of runs) expect(status.stdout).toMatch(new RegExp(`${runId}\\s+running\\s+p50 `));
    const api = (await (await fetch(`${dashboard}/api/runs`)).json()) as {
      runs: { runId: string; eta: { p50At: string | null } | null }[];
    };
    for (const runId of runs) expect(api.runs.find((r) => r.runId === runId)?.eta?.p50At).toMatch(/^\d{4}-/);
    const page = await (await fetch(`${dashboard}/`)).text();
    expect(page).toContain(`data-testid="run-eta-${runs[0]}">p50 <time`);

    // The team goes on, then the night's forecast is recorded (of runs under way, each from where
    // it is): the report compares it with the real ends.
    expect((await cli('agents', 'resume', 'architect')).code).toBe(0);
    const plan = await cli('plan', '--record', '--until', '23:59');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/forecast of 5 run\(s\) from 2 past run\(s\)/);
    for (const runId of runs)
      expect(plan.stdout).toMatch(
        new RegExp(
          `${runId} \\(running\\)\\s+\\d\\d:\\d\\d:\\d\\d \\(\\+[^)]+\\)\\s+\\d\\d:\\d\\d:\\d\\d \\(\\+[^)]+\\)`,
        ),
      );

    for (const runId of runs) await finished(runId);
    await dumpNight(runs);

    // Ended: no ETA any more.
    const after = await cli('status', '--run', runs[0] as string);
    expect(after.stdout).toContain('ETA: no run queued or running');

    const report = await cli('report', runs[0] as string, '--out', join(dir, 'report'));
    expect(report.code, report.stderr).toBe(0);
    const md = readFileSync(join(dir, 'report', 'report.md'), 'utf8');
    expect(md).toMatch(
      /- Forecast vs actual: p50 .* ended \d\d:\d\d:\d\d: error [+−]\d+\.\d %, (within|NOT within) p90\. Night of 5 runs: \d of 5 finished run\(s\) ended by their p90/,
    );
    const table = md.slice(md.indexOf('## Forecast vs actual'));
    // The figures of this night, for docs/planning.md (not asserted: they depend on the machine).
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    writeFileSync(
      join(ROOT, 'test-artifacts', 'plan-eta-forecast.md'),
      `${plan.stdout}\n${table.slice(0, table.indexOf('\n## ', 3))}\n`,
    );
    for (const runId of runs)
      expect(table).toMatch(
        new RegExp(
          `${runId} +\\d\\d:\\d\\d:\\d\\d {2}\\d\\d:\\d\\d:\\d\\d \\(\\+[^)]+\\) {2}\\d\\d:\\d\\d:\\d\\d \\(\\+[^)]+\\) {2}\\d\\d:\\d\\d:\\d\\d \\(\\+[^)]+\\) {2}[+−]\\d+\\.\\d % {2}(yes|NO)`,
        ),
      );
    const review = await cli('plan', '--review');
    const summary = /(\d) of 5 finished run\(s\) ended by their p90; mean \|error\| (\d+\.\d) %/.exec(
      review.stdout,
    );
    expect(summary, review.stdout).not.toBeNull();
    // A sanity bound only, against a forecast off by a factor (exact figures: docs/planning.md).
    // Tighter would be flaky: the 2-core CI machine runs other suites at once, and with a load
    // average of 23 the night's tool time was 2–4× the history's, measured alone minutes before
    // (mean |error| 42.7 %); at a moderate load the same night is 8–14 % off.
    expect(Number(summary?.[2])).toBeLessThan(75);
  });
});
