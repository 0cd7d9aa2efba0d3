// The built `nightshift` binary as a child process against a real Redis, with its own prefix.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Message } from '@nightshift/protocol';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `{t-cli-${randomBytes(4).toString('hex')}}`;
const env = { ...process.env, REDIS_URL, NIGHTSHIFT_PREFIX: PREFIX };
const redis = new Redis(REDIS_URL);
redis.on('error', () => undefined);
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

async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -p tsconfig.build.json)`);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
});

describe('nightshift send / logs', () => {
  it('sends a REQUEST that becomes a job, and logs --json shows it', async () => {
    const sent = await nightshift(
      'send',
      '--to',
      'builder',
      '--type',
      'REQUEST',
      '--priority',
      'HIGH',
      'refactor auth',
    );
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const id = sent.stdout.trim();
    expect(id).toMatch(/^msg_/);
    // The job exists on agent.builder with the message id, under our prefix.
    expect(await redis.exists(`${PREFIX}:agent.builder:${id}`)).toBe(1);

    const logs = await nightshift('logs', '--json');
    expect(logs.code).toBe(0);
    const lines = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { logId: string; message: Message });
    const mine = lines.find((l) => l.message.id === id);
    expect(mine?.message).toMatchObject({ from: 'system', to: 'builder', type: 'REQUEST', priority: 'HIGH' });
    expect(mine?.message.content).toBe('refactor auth');
  });

  it('filters by run, sender and type, and renders the guide form without --json', async () => {
    const run = `run_${randomBytes(4).toString('hex')}`;
    const a = await nightshift(
      'send',
      '--json',
      '--run',
      run,
      '--to',
      'director',
      '--from',
      'builder',
      '--type',
      'STATUS',
      'half done',
    );
    const b = await nightshift(
      'send',
      '--json',
      '--run',
      run,
      '--to',
      'director',
      '--from',
      'inspector',
      '--type',
      'ALERT',
      'md5!',
    );
    expect([a.code, b.code]).toEqual([0, 0]);
    const first = JSON.parse(a.stdout) as { id: string; streamId: string; logId: string };
    // Both entries come from one MULTI; their ids share the millisecond unless a tick falls between.
    expect(first.streamId).toMatch(/^\d+-\d+$/);
    expect(first.logId).toMatch(/^\d+-\d+$/);
    const ms = (id: string) => Number(id.split('-')[0]);
    expect(Math.abs(ms(first.logId) - ms(first.streamId))).toBeLessThanOrEqual(1000);

    const onlyRun = await nightshift('logs', '--json', '--run', run);
    expect(onlyRun.stdout.trim().split('\n')).toHaveLength(2);
    const alerts = await nightshift('logs', '--json', '--run', run, '--type', 'ALERT');
    expect(
      alerts.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).message.from),
    ).toEqual(['inspector']);
    const fromBuilder = await nightshift(
      'logs',
      '--json',
      '--run',
      run,
      '--from',
      'builder',
      '--since',
      first.logId,
    );
    expect(fromBuilder.stdout).toBe('');

    const human = await nightshift('logs', '--run', run);
    expect(human.stdout).toMatch(/── \d+-\d+ ─+\nFROM: Builder\nTO: Director\nTYPE: STATUS/);
    expect(human.stdout).toContain('FROM: Inspector\nTO: Director\nTYPE: ALERT');
  });

  it('shows an unparseable log entry as such instead of crashing', async () => {
    const id = await redis.xadd(`${PREFIX}:bus:log`, '*', 'message', '{broken');
    const logs = await nightshift('logs', '--json', '--since', String(Number(id?.split('-')[0]) - 1));
    expect(logs.code).toBe(0);
    const line = JSON.parse(logs.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(line).toMatchObject({ logId: id, raw: { message: '{broken' } });
    expect(line.error).toMatch(/not JSON/);
  });

  it('refuses a bad --type with exit code 2 naming --type and the allowed values, sending nothing', async () => {
    const before = await redis.xlen(`${PREFIX}:bus:log`);
    const bad = await nightshift('send', '--to', 'builder', '--type', 'PLEASE', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--type/);
    expect(bad.stderr).toMatch(/STATUS, REQUEST, RESPONSE, DECISION, ALERT/);
    const violation = await nightshift(
      'send',
      '--to',
      'ALL',
      '--type',
      'DECISION',
      '--from',
      'architect',
      'x',
    );
    expect(violation.code).toBe(2);
    expect(violation.stderr).toMatch(/topology violation/);
    expect(await redis.xlen(`${PREFIX}:bus:log`)).toBe(before);
  });

  it('follows new entries with --follow until interrupted', async () => {
    const child = spawn(process.execPath, [BIN, 'logs', '--follow', '--json', '--type', 'DECISION'], { env });
    children.push(child);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Send until the follower prints one (it may still be starting up when the first arrives).
    let sent = '';
    await waitFor(async () => {
      if (sent && out.includes(sent)) return true;
      const r = await nightshift('send', '--to', 'ALL', '--from', 'human', '--type', 'DECISION', 'go');
      sent = r.stdout.trim();
      return false;
    }, 'the follower to print an entry');
    // It has printed, so it read its history: this one can only arrive through the tail.
    const later = (
      await nightshift('send', '--to', 'ALL', '--from', 'human', '--type', 'DECISION', 'later')
    ).stdout.trim();
    await waitFor(() => out.includes(later), 'the follower to print a new entry');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const line of out.trim().split('\n')) expect(JSON.parse(line).message.type).toBe('DECISION');
  });
});
