// Issue 18 acceptance, by the real processes (`nightshift up --sim`, the `nightshift` CLI, the
// dashboard's REST API, a raw BullMQ job): every run works on its own checkout and branch
// nightshift/<run>; the user's checkout (tree, index, stash, HEAD, branches) stays byte for byte
// as it was; a subfolder of a repository gets no nested .git; two runs at once make two branches;
// the report shows the diff; a workspace outside WORKSPACE_ROOTS is refused everywhere, untouched.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunState } from '@nightshift/core';
import {
  createKeys,
  createRedisClient,
  createRunStore,
  enqueueRun,
  listHeartbeats,
  QUEUE_NAMES,
} from '@nightshift/redis';
import { freePort, startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, makeUserRepo, nestedGitDirs, runBranches, snapshot } from './support/git-repo.js';
import {
  type CliResult,
  readRunState,
  runCliProcess,
  simEnv,
  stopAll,
  waitRunEnd,
  waitStackUp,
} from './support/sim-night.js';
import { type SimStack, startSimStack } from './support/sim-stack.js';

let redis: TestRedis;
let stack: SimStack | undefined;
let env: NodeJS.ProcessEnv;
let dashboard: string;
const dir = mkdtempSync(join(tmpdir(), 'ns-branch-'));
const projects = join(dir, 'projects');
const workspaces = join(dir, 'workspaces');
const prefix = uniquePrefix();
const keys = createKeys(prefix);
const TASK = 'Fix sum() so npm test passes';

function cli(...args: string[]): Promise<CliResult> {
  return cliWith(env, ...args);
}

function cliWith(cliEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  return runCliProcess(cliEnv, dir, args);
}

const runState = (runId: string): Promise<RunState> => readRunState(redis.url, keys, runId);

async function finished(runId: string): Promise<RunState> {
  const state = await waitRunEnd(redis.url, keys, runId, stack, 240_000);
  expect(state.status).toBe('finished');
  return state;
}

/** The team's commits on the run's branch in the user's repository (newest first). */
function branchLog(repo: string, runId: string): string[] {
  return git(repo, 'log', '--format=%an|%s', `main..nightshift/${runId}`).split('\n');
}

beforeAll(async () => {
  mkdirSync(projects, { recursive: true });
  redis = await startRedis();
  const port = await freePort();
  dashboard = `http://127.0.0.1:${port}`;
  env = {
    ...simEnv({ dir, redisUrl: redis.url, prefix, dashboardPort: port, workspaces }),
    WORKSPACE_ROOTS: projects,
    NIGHTSHIFT_GIT_AUTHOR_NAME: 'Night Team',
    NIGHTSHIFT_GIT_AUTHOR_EMAIL: 'team@example.com',
    // §2: run branches go to the remote of this name where a repository has one (the first test's).
    NIGHTSHIFT_GIT_PUSH_REMOTE: 'backup',
  };
  stack = startSimStack({ env, dataDir: join(dir, 'data'), cwd: dir });
  await waitStackUp(stack, { url: redis.url, keys, roles: ['director', 'builder', 'inspector'], dashboard });
}, 180_000);

afterAll(() => stopAll(stack, redis, dir));

describe('every run on its own branch (issue 18)', () => {
  it('a run on a repository with uncommitted changes, a stash and a second branch commits only on nightshift/<run>; the report shows the diff', async () => {
    const repo = join(projects, 'app');
    makeUserRepo(repo);
    const remote = join(dir, 'backup.git');
    git(dir, 'init', '--quiet', '--bare', remote);
    git(repo, 'remote', 'add', 'backup', remote);
    const before = snapshot(repo);
    const started = await cli('run', TASK, '--workspace', repo);
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const state = await finished(runId);

    expect(state.checkout).toMatchObject({ branch: `nightshift/${runId}`, repo, base: before.head });
    expect(snapshot(repo)).toEqual(before);
    expect(runBranches(repo)).toEqual([`nightshift/${runId}`]);
    const log = branchLog(repo, runId);
    expect(log.length).toBeGreaterThanOrEqual(1);
    for (const line of log)
      expect(line).toMatch(new RegExp(`^Night Team\\|\\[run ${runId}\\] \\w+ i\\d+ · \\w+: `));
    expect(log.at(-1)).toContain('build i1 · builder');
    expect(git(repo, 'diff', '--stat', `main...nightshift/${runId}`)).toMatch(/src\/sum\.js \| 2 \+-/);
    expect(git(repo, 'show', `nightshift/${runId}:src/sum.js`)).toContain('let i = 0;');
    expect(nestedGitDirs(repo)).toEqual([]);
    // Pushed to the named remote: the run's branch only, where the user's repository has it.
    expect(git(remote, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(
      `refs/heads/nightshift/${runId} ${git(repo, 'rev-parse', `nightshift/${runId}`)}`,
    );

    const report = await cli('report', runId, '--out', join(dir, 'report-app'));
    expect(report.code, report.stderr).toBe(0);
    const md = readFileSync(join(dir, 'report-app', 'report.md'), 'utf8');
    expect(md).toContain(`\`nightshift/${runId}\``);
    expect(md).toMatch(/src\/sum\.js \| 2 \+-/);
    expect(md).toContain('+  for (let i = 0; i < values.length; i++) total += values[i];');
    expect(md).toContain(`git -C ${repo} merge nightshift/${runId}`);
    const html = readFileSync(join(dir, 'report-app', 'report.html'), 'utf8');
    expect(html).toMatch(/<details><summary>Full diff \(\d+ lines\)<\/summary><pre class="diff">/);

    const runs = await cli('runs');
    expect(runs.stdout).toContain(`${runId}  nightshift/${runId}: ${log.length} commit(s), 1 file changed`);
    const api = (await (await fetch(`${dashboard}/api/runs/${runId}`)).json()) as {
      branch: { branch: string; commits: unknown[]; diffStat: string; diff: string };
    };
    expect(api.branch.branch).toBe(`nightshift/${runId}`);
    expect(api.branch.commits).toHaveLength(log.length);
    expect(api.branch.diff).toContain('-  for (let i = 1;');
    const page = await (await fetch(`${dashboard}/runs/${runId}`)).text();
    expect(page).toContain('data-testid="run-branch"');
    expect(page).toContain(`<code>nightshift/${runId}</code>`);
    expect(page).toContain('<details><summary>Full diff</summary>');

    // apply refuses a dirty tree and changes nothing; discard removes the checkout and the branch.
    const apply = await cli('apply', runId);
    expect(apply.code).toBe(2);
    expect(apply.stderr).toContain(`git -C ${repo} merge nightshift/${runId}`);
    expect(snapshot(repo)).toEqual(before);
    const discard = await cli('discard', runId);
    expect(discard.code, discard.stderr).toBe(0);
    expect(existsSync(join(workspaces, runId))).toBe(false);
    expect(runBranches(repo)).toEqual([]);
    expect(snapshot(repo)).toEqual(before);
  });

  it('a run on a subfolder of a repository (through POST /api/runs) works in that subfolder of its checkout; no nested .git', async () => {
    const repo = join(projects, 'mono');
    makeUserRepo(repo, 'packages/sum');
    const before = snapshot(repo);
    const res = await fetch(`${dashboard}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: TASK, workspace: join(repo, 'packages/sum') }),
    });
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    const state = await finished(runId);
    expect(state.checkout?.cwd).toBe(join(workspaces, runId, 'packages/sum'));
    expect(nestedGitDirs(repo)).toEqual([]);
    expect(nestedGitDirs(join(workspaces, runId))).toEqual([]);
    expect(snapshot(repo)).toEqual(before);
    expect(git(repo, 'diff', '--name-only', `main...nightshift/${runId}`)).toBe('packages/sum/src/sum.js');
  });

  it('two runs on one repository at once end with two branches and no interference', async () => {
    const repo = join(projects, 'twice');
    makeUserRepo(repo);
    const before = snapshot(repo);
    const [a, b] = await Promise.all(
      ['first', 'second'].map((t) =>
        enqueueRun(redis.url, { task: `${TASK} (${t})`, workspace: repo }, { prefix }),
      ),
    );
    const ids = [a?.runId ?? '', b?.runId ?? ''];
    const states = await Promise.all(ids.map((id) => finished(id)));
    expect(new Set(states.map((s) => s.checkout?.path)).size).toBe(2);
    expect(runBranches(repo).sort()).toEqual(ids.map((id) => `nightshift/${id}`).sort());
    for (const id of ids) {
      // Each branch holds only its own run's commits.
      for (const line of branchLog(repo, id)) expect(line).toContain(`[run ${id}]`);
      expect(git(repo, 'diff', '--name-only', `main...nightshift/${id}`)).toBe('src/sum.js');
    }
    expect(snapshot(repo)).toEqual(before);

    // Once the user's tree is clean, `nightshift apply` merges the run's branch into their branch.
    git(repo, 'reset', '--quiet', '--hard');
    const applied = await cli('apply', ids[0] ?? '');
    expect(applied.code, applied.stderr).toBe(0);
    expect(git(repo, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(git(repo, 'merge-base', '--is-ancestor', `nightshift/${ids[0]}`, 'main')).toBe('');
    expect(readFileSync(join(repo, 'src/sum.js'), 'utf8')).toContain('let i = 0;');
    expect(git(repo, 'stash', 'list')).toBe(before.stash);
  });

  it('refuses a workspace outside the roots through the CLI, REST and a raw BullMQ job, touching nothing', async () => {
    const outside = join(dir, 'outside');
    makeUserRepo(outside);
    const before = snapshot(outside);
    const link = join(projects, 'link-out');
    symlinkSync(outside, link);
    const listing = () => (existsSync(workspaces) ? readdirSync(workspaces).sort() : []);
    const checkouts = listing();

    for (const target of ['/', '/etc', link]) {
      const refused = await cli('run', TASK, '--workspace', target);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('invalid workspace');
      expect(refused.stderr).toContain(`workspace roots (WORKSPACE_ROOTS): ${projects}`);
      expect(refused.stdout).toBe('');

      const res = await fetch(`${dashboard}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task: TASK, workspace: target }),
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain(projects);
    }

    // Without WORKSPACE_ROOTS of its own (started in another folder), the CLI checks against the
    // roots the running Director published, not its own folder.
    const elsewhere = await cliWith(
      { ...env, WORKSPACE_ROOTS: '' },
      'run',
      TASK,
      '--workspace',
      join(dir, 'outside'),
    );
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`workspace roots (WORKSPACE_ROOTS): ${projects}`);

    // A CLI that allows more than the Director (its own WORKSPACE_ROOTS) enqueues; the Director's
    // intake refuses, and `nightshift run` says so instead of printing a run id.
    const broader = await cliWith({ ...env, WORKSPACE_ROOTS: dir }, 'run', TASK, '--workspace', outside);
    expect(broader.code).toBe(2);
    expect(broader.stdout).toBe('');
    expect(broader.stderr, `stderr: ${broader.stderr}`).toMatch(
      /was refused: \[INVALID_INPUT\/invalid-input\] invalid workspace/,
    );
    expect(broader.stderr).toContain(projects);

    // A job added straight to `runs` skips both: the Director's intake refuses it for good.
    const client = createRedisClient(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAMES.runs, { connection: client, prefix: keys.prefix });
    try {
      for (const [i, target] of ['/etc', link].entries()) {
        const job = await queue.add(
          'run',
          { task: TASK, workspace: target },
          { jobId: `raw${i}x`, attempts: 3 },
        );
        const failed = await waitFor(
          async () =>
            (await job.getState()) === 'failed'
              ? (await queue.getJob(job.id ?? ''))?.failedReason
              : undefined,
          { timeoutMs: 30_000, what: `job ${job.id} to be refused` },
        );
        expect(failed).toMatch(
          /^\[INVALID_INPUT\/invalid-input\] invalid workspace: workspace: a folder under the workspace roots \(WORKSPACE_ROOTS\): /,
        );
        expect(failed).toContain(projects);
        expect((await runState(`run_${job.id}`)).runId).toBeNull();
      }
    } finally {
      await queue.close();
      client.disconnect();
    }
    expect(listing()).toEqual(checkouts);
    expect(snapshot(outside)).toEqual(before);
    expect(runBranches(outside)).toEqual([]);
  });
  it('kill -9 of every service mid-build: the run resumes on the same checkout and branch, no duplicate commit, git fsck clean', async () => {
    const repo = join(projects, 'killed');
    makeUserRepo(repo);
    const before = snapshot(repo);
    const { runId } = await enqueueRun(redis.url, { task: TASK, workspace: repo }, { prefix });
    const client = createRedisClient(redis.url);
    try {
      await waitFor(
        async () =>
          (await createRunStore(client, keys).read(runId)).some(
            (e) => (e.event as { type?: string; step?: string }).step === 'build',
          ),
        { timeoutMs: 120_000, intervalMs: 50, what: 'the build step to be requested' },
      );
      const services = await listHeartbeats(client, keys);
      expect(services.length).toBeGreaterThanOrEqual(5);
      for (const s of services) process.kill(s.pid, 'SIGKILL');
    } finally {
      client.disconnect();
    }
    const state = await finished(runId);
    expect(state.checkout?.path).toBe(join(workspaces, runId));
    expect(readdirSync(workspaces).filter((n) => n.startsWith(runId))).toEqual([runId]);
    const log = branchLog(repo, runId);
    expect(log.length).toBeGreaterThanOrEqual(1);
    expect(new Set(log).size).toBe(log.length);
    expect(git(repo, 'rev-parse', `nightshift/${runId}`)).toBe(
      git(join(workspaces, runId), 'rev-parse', 'HEAD'),
    );
    for (const where of [repo, join(workspaces, runId)])
      expect(git(where, 'fsck', '--full', '--no-dangling')).toBe('');
    expect(snapshot(repo)).toEqual(before);
    expect(nestedGitDirs(repo)).toEqual([]);
  });
});
