// Issue 18 §6: a Builder killed with SIGKILL after it wrote its files and before its milestone
// commit; the restarted Builder takes the job over in the SAME checkout on the SAME branch (no
// second clone), commits once (nothing lost, nothing twice) and the branch reaches the user's
// repository; git fsck is clean on both sides and the user's checkout is untouched.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, createKeys, createRunStore, listHeartbeats } from '@nightshift/redis';
import {
  type FakeOllama,
  type OllamaRequestInfo,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { prepareRunCheckout } from '@nightshift/tools';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_MAIN,
  GATEWAY_MAIN,
  readWholeLog,
  requestTo,
  type ServiceProcess,
  serviceEnv,
  spawnService,
  stopAll,
} from './agent-harness.js';
import { git, makeUserRepo, runBranches, snapshot } from './support/git-repo.js';

let redis: TestRedis;
let fake: FakeOllama;
let bus: Bus;
const procs: ServiceProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ns-branch-crash-'));
const runId = 'run_crash18';
let finals = 0;
const FIXED_SUM = `// Adds up a list of numbers.
export function sum(values) {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}
`;

const toolResults = (req: OllamaRequestInfo) => req.messages.filter((m) => m.role === 'tool').length;

beforeAll(async () => {
  redis = await startRedis();
  fake = await startFakeOllama({
    numParallel: 2,
    latencyMs: 20,
    scenario: [
      {
        match: { role: 'builder' },
        // Write the fix; then the first final answer never comes (the process is killed while it
        // waits), the next one does.
        reply: (req: OllamaRequestInfo) =>
          toolResults(req) === 0
            ? {
                content: '',
                toolCalls: [{ name: 'write_file', arguments: { path: 'src/sum.js', content: FIXED_SUM } }],
              }
            : finals++ === 0
              ? { hang: true }
              : { content: 'Fixed sum(): the loop starts at 0.' },
      },
    ],
  });
  bus = createBus({ url: redis.url, keys: createKeys(uniquePrefix()), onError: () => undefined });
}, 120_000);
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' || process.env.DEBUG_E2E)
    for (const p of procs) console.error(p.tail(40));
});
afterAll(async () => {
  await fake?.stop();
  await stopAll(procs);
  await bus?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a Builder killed mid-build (issue 18 §6)', () => {
  it('resumes on the same checkout and branch: one commit, fetched back, git fsck clean', async () => {
    const repo = join(dir, 'projects', 'app');
    makeUserRepo(repo);
    const before = snapshot(repo);
    const workspaces = join(dir, 'workspaces');
    // What the Director's intake does before run.created (services/director/src/intake.ts).
    const checkout = await prepareRunCheckout({
      runId,
      workspaceDir: workspaces,
      requested: repo,
      roots: [join(dir, 'projects')],
      branchPrefix: 'nightshift/',
      identity: { name: 'Night Team', email: 'team@example.com' },
    });
    const appended = await createRunStore(bus.redis, bus.keys).append(runId, 0, [
      {
        type: 'run.created',
        at: new Date().toISOString(),
        runId,
        task: 'fix sum',
        workspace: repo,
        checkout,
      },
    ]);
    expect(appended.ok).toBe(true);
    const env = {
      REDIS_URL: redis.url,
      NIGHTSHIFT_PREFIX: bus.keys.prefix,
      OLLAMA_HOST: fake.url,
      WORKSPACE_DIR: workspaces,
      WORKSPACE_ROOTS: join(dir, 'projects'),
      MEMORY_DIR: join(dir, 'memory'),
      NIGHTSHIFT_GIT_AUTHOR_NAME: 'Night Team',
      NIGHTSHIFT_GIT_AUTHOR_EMAIL: 'team@example.com',
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '1000',
      QUEUE_MAX_STALLED_COUNT: '3',
    };
    procs.push(spawnService('gateway', GATEWAY_MAIN, serviceEnv(env)));
    const first = spawnService('builder-1', AGENT_MAIN, serviceEnv({ ...env, ROLE: 'builder' }));
    procs.push(first);
    await waitFor(async () => (await listHeartbeats(bus.redis, bus.keys)).length >= 2, {
      timeoutMs: 60_000,
      what: 'heartbeats',
    });

    const request = requestTo('builder', 'Fix sum() in src/sum.js.', {
      id: `req_${runId}_build_i1_a1`,
      runId,
      phase: 2,
    });
    await bus.publish(request);
    // The file is written in the run's checkout and the model is asked for its final answer.
    await waitFor(() => finals > 0 && readFileSync(join(checkout.cwd, 'src/sum.js'), 'utf8') === FIXED_SUM, {
      timeoutMs: 60_000,
      what: 'the first attempt to write its file',
    });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(runBranches(repo)).toEqual([]); // nothing committed yet, nothing fetched
    procs.push(spawnService('builder-2', AGENT_MAIN, serviceEnv({ ...env, ROLE: 'builder' })));

    const response = await waitFor(
      async () =>
        (await readWholeLog(bus))
          .map((e) => e.message)
          .find((m) => m?.type === 'RESPONSE' && m.inReplyTo === request.id),
      { timeoutMs: 90_000, intervalMs: 200, what: 'the RESPONSE after recovery' },
    );
    expect(response.attempt).toBeGreaterThanOrEqual(2);

    // One checkout (no second clone, no half-built one left), one commit, on the run's branch.
    expect(readdirSync(workspaces)).toEqual([runId]);
    expect(git(checkout.path, 'symbolic-ref', '--short', 'HEAD')).toBe(`nightshift/${runId}`);
    expect(git(repo, 'log', '--format=%an|%s', `main..nightshift/${runId}`).split('\n')).toEqual([
      `Night Team|[run ${runId}] build i1 · builder: Fixed sum(): the loop starts at 0.`,
    ]);
    expect(git(repo, 'rev-parse', `nightshift/${runId}`)).toBe(git(checkout.path, 'rev-parse', 'HEAD'));
    expect(git(repo, 'show', `nightshift/${runId}:src/sum.js`)).toBe(FIXED_SUM.trimEnd());
    for (const where of [repo, checkout.path]) expect(git(where, 'fsck', '--full', '--no-dangling')).toBe('');
    expect(snapshot(repo)).toEqual(before);
  });
});
