// The steering commands through the built binary against a real Redis with its own prefix. The
// test plays the Director where a run must move (it appends the run's events itself).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StatusSchema } from '@nightshift/client';
import { type RunEventDraft, stamp } from '@nightshift/core';
import { createAlertStore, createKeys, createRedis, createRunStore, QUEUE_NAMES } from '@nightshift/redis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `{t-steer-${randomBytes(4).toString('hex')}}`;
const env = { ...process.env, REDIS_URL, NIGHTSHIFT_PREFIX: PREFIX };
const keys = createKeys(PREFIX);
const redis = createRedis(REDIS_URL);
const store = createRunStore(redis, keys);
const children: ChildProcess[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function nightshift(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function seed(runId: string, drafts: RunEventDraft[]): Promise<void> {
  const version = await store.version(runId);
  const at = new Date().toISOString();
  const events = [
    ...(version === 0 ? [stamp({ type: 'run.created', runId, task: `task of ${runId}` }, at)] : []),
    ...drafts.map((d) => stamp(d, at)),
  ];
  const result = await store.append(runId, version, events);
  if (!result.ok) throw new Error(`seed conflict on ${runId}`);
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -p tsconfig.build.json)`);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    if (found.length > 0) await redis.del(...found);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
});

describe('nightshift run', () => {
  it('enqueues a run job with the budget and prints the run id', async () => {
    const r = await nightshift(
      'run',
      '--title',
      'sum',
      '--max-tokens',
      '5000',
      '--max-usd',
      '1.5',
      'Fix',
      'the',
      'sum',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runId = r.stdout.trim();
    expect(runId).toMatch(/^run_/);
    const queue = new Queue(QUEUE_NAMES.runs, { connection: redis, prefix: PREFIX });
    const job = await queue.getJob(runId.slice('run_'.length));
    expect(job?.data).toEqual({
      task: 'Fix the sum',
      title: 'sum',
      budget: { maxTokens: 5000, maxUsd: 1.5 },
    });
    await queue.close();
  });

  it('refuses bad arguments with exit code 2 naming the option', async () => {
    const usd = await nightshift('run', '--max-usd', 'lots', 'task');
    expect(usd.code).toBe(2);
    expect(usd.stderr).toMatch(/--max-usd/);
    const empty = await nightshift('run', '   ');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/<task>/);
    const missing = await nightshift('run');
    expect(missing.code).toBe(2);
  });

  it('--wait follows the run with plain progress lines on a pipe and exits by outcome', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--wait', 'watch me'], { env });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until(async () => /^run_/m.test(out), 'the run id');
    const runId = (out.split('\n')[0] ?? '').trim();
    await seed(runId, [{ type: 'phase.started', phase: 1, iteration: 1 }]);
    await until(async () => out.includes('P1 Planning'), 'a P1 progress line');
    await seed(runId, [
      { type: 'phase.started', phase: 2, iteration: 1 },
      { type: 'budget.used', tokens: 1234, usd: 0 },
    ]);
    await until(async () => out.includes('P2 Execution'), 'a P2 progress line');
    await seed(runId, [{ type: 'run.finished', outcome: 'success', summary: 'all green' }]);
    expect(await exited).toBe(0);
    expect(out).not.toContain('\r');
    expect(out).toMatch(/P2 Execution · iteration 1 · step - · \d+m\d+s · 1234 tokens · running/);
    expect(out).toContain(`run ${runId} finished: all green`);
    expect(err).toBe('');
  });

  it('--wait exits 3 when the run waits for a human, 1 when it is aborted', async () => {
    const waitFor = async (then: RunEventDraft[]) => {
      const child = spawn(process.execPath, [BIN, 'run', '--wait', '--json', 'needs you'], { env });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await until(async () => out.includes('"runId"'), 'the run id');
      const { runId } = JSON.parse(out.split('\n')[0] ?? '{}') as { runId: string };
      await seed(runId, then);
      return { code: await exited, out, err, runId };
    };
    const waiting = await waitFor([
      { type: 'run.waiting-human', reason: 'budget exceeded', cause: 'budget' },
    ]);
    expect(waiting.code).toBe(3);
    expect(waiting.err).toContain(`nightshift decide ${waiting.runId}`);
    const lines = waiting.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; end?: string });
    expect(lines.at(-1)).toMatchObject({ event: 'end', end: 'waiting-human' });
    const aborted = await waitFor([{ type: 'run.finished', outcome: 'aborted' }]);
    expect(aborted.code).toBe(1);
    expect(aborted.err).toMatch(/ended aborted/);
  });
});

describe('steering a run', () => {
  it('pauses, resumes, decides and aborts, each recorded as an event', async () => {
    await seed('run_cli', [{ type: 'phase.started', phase: 2, iteration: 1 }]);
    expect((await nightshift('pause', 'run_cli', '--note', 'lunch')).stdout).toMatch(
      /pause recorded for run_cli; it is now paused/,
    );
    expect((await nightshift('pause', 'run_cli')).stdout).toMatch(/already paused/);
    const resumed = await nightshift('resume', 'run_cli', '--json');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ action: 'resume', changed: true, status: 'running' });
    const early = await nightshift('decide', 'run_cli', '--continue');
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/not waiting for a human/);
    await seed('run_cli', [{ type: 'run.waiting-human', reason: 'cap reached', cause: 'max-iterations' }]);
    const decided = await nightshift('decide', 'run_cli', '--revise', 'try smaller steps', '--json');
    expect(decided.code).toBe(0);
    expect(JSON.parse(decided.stdout)).toMatchObject({ decision: 'revise', changed: true });
    const aborted = await nightshift('abort', 'run_cli');
    expect(aborted.code).toBe(0);
    const types = (await store.read('run_cli')).map((e) => (e.event as { type: string }).type);
    expect(types.slice(2)).toEqual([
      'run.paused',
      'run.resumed',
      'run.waiting-human',
      'human.decided',
      'human.decided',
    ]);
    const runs = await nightshift('runs', '--json');
    expect((JSON.parse(runs.stdout) as { runId: string }[]).map((r) => r.runId)).toContain('run_cli');
  });

  it('gives a clear error and exit 2 for every bad argument', async () => {
    const cases: [string[], RegExp][] = [
      [['pause', 'run:bad'], /runId|id of letters/],
      [['pause', 'run_missing'], /no run run_missing/],
      [['decide', 'run_cli'], /choose one of --continue/],
      [['decide', 'run_cli', '--continue', '--finish'], /cannot be used with/],
      [['decide', 'run_cli', '--revise', 'x', '--note', 'y'], /--revise takes the note/],
      [['resolve', 'alert_x'], /choose --continue, --abort or --note/],
      [['resolve', 'alert_x', '--continue', '--abort'], /cannot be used with/],
      [['agents', 'pause', 'director'], /Allowed choices are architect/],
      [['agents', 'sleep', 'builder'], /unknown command/],
      [['status', '--interval', '0'], /--interval/],
      [['status', '--run', 'run_missing'], /no run run_missing/],
    ];
    for (const [args, message] of cases) {
      const r = await nightshift(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});

describe('agents and alerts', () => {
  it('pauses and resumes an agent queue', async () => {
    const queue = new Queue(QUEUE_NAMES.agent('builder'), { connection: redis, prefix: PREFIX });
    expect((await nightshift('agents', 'pause', 'builder')).stdout).toBe('agent.builder paused\n');
    expect(await queue.isPaused()).toBe(true);
    expect((await nightshift('agents', 'pause', 'builder')).stdout).toBe(
      'agent.builder was already paused\n',
    );
    expect((await nightshift('agents', 'resume', 'builder', '--json')).stdout).toContain('"paused":false');
    expect(await queue.isPaused()).toBe(false);
    await queue.close();
  });

  it('resolves an alert with a note', async () => {
    const alerts = createAlertStore(redis, keys);
    const { alert } = await alerts.raise({
      key: 'cli:test',
      level: 2,
      rule: 'conflict.trust-weighted',
      subject: 'review',
      reason: 'no consensus',
      actions: [],
    });
    const listed = await nightshift('alerts', '--json');
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((a) => a.id)).toContain(alert.id);
    const r = await nightshift('resolve', alert.id, '--note', 'I will look in the morning');
    expect(r.code).toBe(0);
    expect((await alerts.get(alert.id))?.resolution).toMatchObject({
      decision: 'note',
      note: 'I will look in the morning',
    });
    const missing = await nightshift('resolve', 'alert_nope', '--continue');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no alert alert_nope/);
  });
});

describe('nightshift status', () => {
  it('--json validates against StatusSchema', async () => {
    const r = await nightshift('status', '--json', '--run', 'run_cli');
    expect(r.code).toBe(0);
    const status = StatusSchema.parse(JSON.parse(r.stdout));
    expect(status.run?.runId).toBe('run_cli');
    expect(status.queues.map((q) => q.name)).toEqual(
      expect.arrayContaining(['runs', 'llm', 'dead-letter', 'agent.builder', 'agent.scribe']),
    );
  });

  it('--watch prints frame after frame on a plain pipe, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'status', '--watch', '--interval', '0.3'], { env });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until(async () => (out.match(/ frame \d+ /g) ?? []).length >= 3, 'three frames');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // No cursor movement or screen clearing on a pipe: plain text frames.
    expect(out).not.toContain('\x1b[');
    expect(out).toContain('LLM slots: 0/2 in use, 0 waiting');
    expect(out).toMatch(/Agents\nROLE +STATE/);
  });

  it('--watch --json prints one StatusSchema object per line', async () => {
    const child = spawn(process.execPath, [BIN, 'status', '--watch', '--json', '--interval', '0.3'], { env });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until(async () => out.split('\n').filter((l) => l.startsWith('{')).length >= 2, 'two JSON frames');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const line of out.trim().split('\n')) StatusSchema.parse(JSON.parse(line));
  });
});
