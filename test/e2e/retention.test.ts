// Issue 21 acceptance: "a run archived out of Redis still has its report, replay and dashboard
// page". A real stack (`nightshift up --sim`, every service a process) keeps only the newest
// finished run in Redis (RUN_RETENTION_KEEP=1): run A finishes, its report, replay and dashboard
// page are taken; run B finishes, the Scribe archives A; A's keys, bus:log entries and jobs are
// gone from Redis, and the same commands and pages give what they gave before.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeys, createRedis } from '@nightshift/redis';
import { freePort, startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './support/run-command.js';
import { type SimStack, startSimStack } from './support/sim-stack.js';
import { ROOT } from './support/stack.js';

let redis: TestRedis;
let client: Redis;
let stack: SimStack | undefined;
let dashboard = '';
const dir = mkdtempSync(join(tmpdir(), 'ns-retention-'));
const prefix = uniquePrefix();
const memoryDir = join(dir, 'memory');

function env(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    MEMORY_DIR: memoryDir,
    WORKSPACE_DIR: join(dir, 'workspaces'),
    LOG_LEVEL: 'warn',
  };
}

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return runCommand(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), ...args], {
    cwd: dir,
    env: env(),
  });
}

async function finishedRun(name: string): Promise<string> {
  const workspace = join(dir, 'workspaces', name);
  cpSync(join(ROOT, 'examples/sample-workspace'), workspace, { recursive: true });
  const r = await cli(['run', '--workspace', workspace, '--wait', 'Fix sum() so npm test passes']);
  expect(r.code, r.out).toBe(0);
  const runId = /^run (run_\S+) finished/m.exec(r.out)?.[1];
  if (!runId) throw new Error(`no finished run in:\n${r.out}`);
  return runId;
}

/** What Redis holds of the run: keys naming it (run:<id>:*, its jobs, guards, task marks), log entries. */
async function inRedis(
  runId: string,
): Promise<{ keys: string[]; logEntries: number; indexed: boolean; llmJobs: number }> {
  const jobId = runId.slice('run_'.length);
  const keys = (await client.keys(`${prefix}:*`)).filter((k) => k.includes(jobId)).sort();
  const log = await client.xrange(createKeys(prefix).busLog, '-', '+');
  const logEntries = log.filter(([, fields]) => fields.some((f) => f.includes(`"runId":"${runId}"`))).length;
  const indexed = (await client.zscore(createKeys(prefix).runsIndex, runId)) !== null;
  // llm job ids are random: the run is named in their data.
  const llm = new Queue('llm', { connection: client, prefix });
  const llmJobs = (await llm.getJobs(['completed', 'failed'])).filter((j) => j?.data?.runId === runId).length;
  await llm.close();
  return { keys, logEntries, indexed, llmJobs };
}

/** Everything a user reads of the run, in a form that can be compared. */
async function views(runId: string, out: string) {
  const report = await cli(['report', runId, '--out', join(dir, out)]);
  expect(report.code, report.out).toBe(0);
  const replay = await cli(['replay', runId, '--json']);
  expect(replay.code, replay.out).toBe(0);
  const api = await fetch(`${dashboard}/api/runs/${runId}`);
  expect(api.status).toBe(200);
  const page = await fetch(`${dashboard}/runs/${runId}`);
  expect(page.status).toBe(200);
  const html = await page.text();
  // The page's live parts (agents' heartbeats, the script nonce) change by the second: compare the run's.
  const section = (testid: string) =>
    new RegExp(`data-testid="${testid}"[^>]*>([\\s\\S]*?)</(div|td|span|p|ul|section)>`).exec(html)?.[1];
  return {
    reportMarkdown: readFileSync(join(dir, out, 'report.md'), 'utf8'),
    replay: JSON.parse(replay.out) as unknown,
    api: (await api.json()) as unknown,
    page: {
      body: /<body[^>]*>/.exec(html)?.[0],
      title: /<title>[^<]*<\/title>/.exec(html)?.[0],
      messages: section('message-stream'),
      status: section('run-status'),
      phases: section('phase-timeline'),
      checkpoint: section('checkpoint-latest'),
    },
  };
}

beforeAll(async () => {
  redis = await startRedis();
  client = createRedis(redis.url);
  const port = await freePort();
  dashboard = `http://127.0.0.1:${port}`;
  stack = startSimStack({
    dataDir: dir,
    cwd: dir,
    env: {
      ...env(),
      DASHBOARD_PORT: String(port),
      DIRECTOR_TICK_MS: '200',
      // Only the newest finished run stays in Redis; no age rule, so nothing depends on timing.
      RUN_RETENTION_HOURS: '0',
      RUN_RETENTION_KEEP: '1',
      RUN_RETENTION_CHECK_SECONDS: '1',
    },
  });
  await waitFor(async () => (await fetch(`${dashboard}/healthz`).catch(() => undefined))?.ok === true, {
    timeoutMs: 90_000,
    what: `the stack's dashboard\n${stack?.output().slice(-2000)}`,
  });
});

afterAll(async () => {
  await stack?.stop();
  client?.disconnect();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('retention (issue 21 §2)', () => {
  it('a run archived out of Redis still has its report, replay and dashboard page', async () => {
    const first = await finishedRun('ws-a');
    const before = await views(first, 'report-before');
    const held = await inRedis(first);
    expect(held.indexed).toBe(true);
    expect(held.logEntries).toBeGreaterThan(0);
    expect(held.keys.length).toBeGreaterThan(10);
    expect(held.llmJobs).toBeGreaterThan(0);
    expect(before.page.messages).toMatch(/data-testid="msg"/);
    expect(before.page.status).toMatch(/finished/);

    // The second run ending pushes the first out (RUN_RETENTION_KEEP=1).
    const second = await finishedRun('ws-b');
    const archive = join(memoryDir, 'archive', `${first}.jsonl.gz`);
    await waitFor(async () => existsSync(archive) && !(await inRedis(first)).indexed, {
      timeoutMs: 90_000,
      what: `the Scribe to archive ${first}\n${stack?.output().slice(-2000)}`,
    });
    expect(await inRedis(first)).toEqual({ keys: [], logEntries: 0, indexed: false, llmJobs: 0 });
    // The newest run stays in Redis, and the list says where the older one went.
    expect((await inRedis(second)).indexed).toBe(true);
    const runs = await cli(['runs']);
    expect(runs.out).toContain(second);
    expect(runs.out).toContain(`1 older run(s) archived out of Redis in ${join(memoryDir, 'archive')}`);
    const list = (await (await fetch(`${dashboard}/api/runs`)).json()) as { archivedRuns: number };
    expect(list.archivedRuns).toBe(1);

    const after = await views(first, 'report-after');
    expect(after.replay).toEqual(before.replay);
    expect(after.api).toEqual(before.api);
    expect(after.reportMarkdown).toBe(before.reportMarkdown);
    expect(after.page).toEqual(before.page);
  });

  it('a run that is nowhere is refused by report and replay with where they looked', async () => {
    const report = await cli(['report', 'run_neverwas']);
    expect(report.code).not.toBe(0);
    expect(report.out).toContain(
      `no run run_neverwas under prefix ${prefix} nor in the archive ${join(memoryDir, 'archive')}`,
    );
    const replay = await cli(['replay', 'run_neverwas']);
    expect(replay.code).not.toBe(0);
    expect(replay.out).toContain('nor in the archive');
  });
});
