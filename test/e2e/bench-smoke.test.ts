// CI smoke of the benchmark (issue 13): runs `node test/bench/run.mjs --smoke` as a child process
// so the suite never rots, and checks every section measured something. No timing assertions:
// speed is reported by the benchmark, never asserted; only the limiter's correctness is.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHarness } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ns-bench-smoke-'));
const out = join(dir, 'bench-smoke.json');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;

/** Asserts `obj[path...]` is a finite number and returns it. */
function numberAt(obj: unknown, path: string): number {
  let value: unknown = obj;
  for (const key of path.split('.')) value = (value as Json | undefined)?.[key];
  expect(typeof value === 'number' && Number.isFinite(value), `${path} = ${JSON.stringify(value)}`).toBe(
    true,
  );
  return value as number;
}

describe('the benchmark, smoke mode', () => {
  it('writes JSON in which every section has its measurements', async () => {
    const { code, output } = await runHarness('test/bench/run.mjs', ['--smoke', `--out=${out}`], 280_000);
    expect(code, output).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as Json;
    expect((result.meta as Json).mode).toBe('smoke');
    for (const section of ['bus', 'dispatch', 'limiter', 'fullRun', 'memory', 'peers', 'sandbox']) {
      expect(result[section], `section ${section}`).toBeDefined();
      expect((result[section] as Json).error, `section ${section} failed`).toBeUndefined();
    }

    const section = (name: string) => result[name] as Json;
    const [dispatch, bus, limiter, fullRun, memory, peers] = [
      'dispatch',
      'bus',
      'limiter',
      'fullRun',
      'memory',
      'peers',
    ].map(section) as [Json, Json, Json, Json, Json, Json];
    for (const side of ['nightshift', 'bullmq']) {
      expect(numberAt(dispatch, `${side}.jobsPerSec`)).toBeGreaterThan(0);
      for (const pass of ['underLoad', 'oneAtATime']) {
        numberAt(dispatch, `${side}.${pass}.p50Ms`);
        numberAt(dispatch, `${side}.${pass}.p99Ms`);
      }
    }
    expect(numberAt(dispatch, 'ratio')).toBeGreaterThan(0);
    // Commands per request, counted with MONITOR: both sides run BullMQ's scripts; Nightshift's audit
    // trail and exactly-once answers (the RESPONSE's publish script among them) add round trips on top.
    const raw = numberAt(dispatch, 'commands.bullmq.roundTrips');
    expect(numberAt(dispatch, 'commands.bullmq.byCommand.EVALSHA')).toBeGreaterThan(0);
    expect(numberAt(dispatch, 'commands.nightshift.roundTrips')).toBeGreaterThan(raw);
    const shapes = Object.keys((dispatch.commands as { nightshift: { byKey: object } }).nightshift.byKey);
    expect(
      shapes.some((k) => /^EVALSHA .*:published:rsp_msg_\*$/.test(k)),
      shapes.join(', '),
    ).toBe(true);
    expect(numberAt(bus, 'nightshift.msgsPerSec')).toBeGreaterThan(0);
    expect(numberAt(bus, 'raw.msgsPerSec')).toBeGreaterThan(0);
    numberAt(bus, 'ratio');

    // The raw BullMQ baseline (setGlobalConcurrency) holds the same limit, and the ratio is reported.
    expect(numberAt(limiter, 'bullmqGlobal.maxConcurrency')).toBeLessThanOrEqual(
      numberAt(limiter, 'numParallel'),
    );
    expect(numberAt(limiter, 'bullmqGlobal.slotUtilisation')).toBeGreaterThan(0);
    expect(numberAt(limiter, 'utilisationVsBullmq')).toBeGreaterThan(0);
    // An LLM call's Redis work, counted: at least the job's add, its move to active and its completion.
    expect(numberAt(limiter, 'commands.roundTrips')).toBeGreaterThanOrEqual(3);
    // The limiter's one hard rule: never more calls at Ollama than OLLAMA_NUM_PARALLEL.
    const slots = numberAt(limiter, 'numParallel');
    expect(slots).toBe(2);
    expect(numberAt(limiter, 'maxConcurrency')).toBe(slots);
    expect(numberAt(limiter, 'answered')).toBe(numberAt(limiter, 'calls'));
    expect(numberAt(limiter, 'rejected503')).toBe(0);
    expect(numberAt(limiter, 'slotUtilisation')).toBeGreaterThan(0);
    numberAt(limiter, 'inversions');
    numberAt(limiter, 'competingPairs');

    expect(fullRun.status).toBe('finished');
    numberAt(fullRun, 'makespanSec');
    expect(numberAt(fullRun, 'lowerBoundSec')).toBeGreaterThan(0);
    numberAt(fullRun, 'ratio');

    expect(numberAt(memory, 'idleStackMb')).toBeGreaterThan(0);
    numberAt(memory, 'fullRunPeakStackMb');
    numberAt(memory, 'startup.allHealthyMs');
    for (const mb of Object.values(memory.idleMb as Json)) expect(typeof mb).toBe('number');
    numberAt(memory, 'underLoadMb.agentDispatch');
    numberAt(memory, 'underLoadMb.gatewayLimiter');

    const variants = peers.variants as Json[];
    expect(variants).toHaveLength(4);
    for (const v of variants) {
      for (const key of ['makespanSec', 'slotUtilisation', 'rejected503', 'failedTasks', 'maxAtOllama'])
        numberAt(v, key);
    }
    const nightshift = variants.find((v) => String(v.name).startsWith('Nightshift'));
    expect(nightshift?.limitHeld).toBe(true);
    expect(nightshift?.failedTasks).toBe(0);

    // The sandbox's cost per command: both sides measured, for each command.
    const sandboxed = (section('sandbox').commands as Json[]).map((c) => c.name);
    expect(sandboxed).toEqual(['true', 'node -e 0', 'npm test (sample workspace)']);
    for (const c of section('sandbox').commands as Json[])
      for (const key of ['sandboxed.p50Ms', 'unconfined.p99Ms', 'overheadP50Ms', 'overheadP99Ms'])
        numberAt(c, key);
  });
});
