// Issue 8 acceptance: the review debate on the bus with real processes — a critical finding
// (MD5 for passwords, the guide's example) is debated to Revise and costs the Builder 2 trust;
// a debate split for three rounds ends with the Director's decision, never a fourth round.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fold, parseRunEvent, type RunEvent } from '@nightshift/core';
import { WORKER_ROLES } from '@nightshift/protocol';
import { type Bus, createBus, createKeys, createRunStore, enqueueRun } from '@nightshift/redis';
import {
  type FakeAnthropic,
  type FakeOllama,
  type OllamaRule,
  startFakeAnthropic,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeLog, type ServiceProcess, serviceEnv, spawnService, stopAll } from './agent-harness.js';
import { SERVICE_MAIN } from './support/stack.js';

const vote = (option: string, confidence: number, rationale: string) =>
  JSON.stringify({ option, confidence, rationale });
const verdict = (decision: string, rationale: string) => JSON.stringify({ decision, rationale });

let redis: TestRedis;
let ollama: FakeOllama;
let anthropic: FakeAnthropic;
let bus: Bus;
let memoryDir: string;
const procs: ServiceProcess[] = [];
const prefix = uniquePrefix();
const keys = createKeys(prefix);

/** Vote rules: `marker` selects the run (its task text), `round` the debate round, of iteration 1 only. */
function voteRule(marker: string, role: string, round: number, reply: string, iteration = 1): OllamaRule {
  return {
    match: {
      role,
      predicate: (req) =>
        req.text.includes(`Vote on the review of iteration ${iteration}`) &&
        req.text.includes(marker) &&
        req.text.includes(`round ${round}:`),
    },
    reply: { content: reply },
  };
}

beforeAll(async () => {
  redis = await startRedis();
  ollama = await startFakeOllama({ numParallel: 2, latencyMs: 10 });
  anthropic = await startFakeAnthropic({});
  const split = (round: number, flip: boolean) =>
    WORKER_ROLES.filter((r) => r !== 'scout').map((role, i) =>
      voteRule(
        'DEADLOCK',
        role,
        round,
        vote((i % 2 === 0) !== flip ? 'finish' : 'revise', 0.6, `round ${round} view of ${role}`),
      ),
    );
  ollama.setScenario([
    // The MD5 run: the Inspector finds the guide's critical bug in iteration 1 only.
    ...['builder', 'refactorer', 'inspector', 'architect'].map((role) =>
      voteRule('MD5', role, 1, vote('revise', 0.9, 'MD5 must be replaced by bcrypt')),
    ),
    ...['builder', 'refactorer', 'inspector', 'architect'].map((role) =>
      voteRule('MD5', role, 2, vote('revise', 0.9, 'still revise')),
    ),
    {
      match: {
        role: 'inspector',
        predicate: (req) => req.text.includes('MD5') && req.text.includes('iteration 1'),
      },
      reply: {
        content:
          '{"findings":[{"severity":"critical","file":"src/auth.ts","description":"Password hashing uses MD5 instead of bcrypt"}]}',
      },
      times: 1,
    },
    // The deadlock run: positions flip every round, with new arguments each time.
    ...split(1, false),
    ...split(2, true),
    ...split(3, false),
    ...split(4, true),
    { match: { role: 'inspector' }, reply: { content: '{"findings":[]}' } },
  ]);
  anthropic.setScenario([
    { match: { contains: 'Frame the goal' }, reply: { content: 'Goal.' } },
    {
      match: {
        predicate: (req) => req.text.includes('MD5') && req.text.includes('Verify the review of iteration 1'),
      },
      reply: { content: verdict('revise', 'critical security bug') },
    },
    { match: { contains: 'Verify the review' }, reply: { content: verdict('finish', 'done') } },
  ]);
  memoryDir = mkdtempSync(join(tmpdir(), 'ns-debate-'));
  const env = serviceEnv({
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    OLLAMA_HOST: ollama.url,
    ANTHROPIC_API_KEY: 'sk-test-director-key',
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_MAX_RETRIES: '0',
    MEMORY_DIR: memoryDir,
    WORKSPACE_DIR: join(memoryDir, 'ws'),
    DIRECTOR_TICK_MS: '200',
    LOG_LEVEL: 'warn',
  });
  bus = createBus({ url: redis.url, keys });
  procs.push(spawnService('llm-gateway', SERVICE_MAIN['llm-gateway'], env));
  procs.push(spawnService('scribe', SERVICE_MAIN.scribe, env));
  for (const role of WORKER_ROLES) procs.push(spawnService(role, SERVICE_MAIN.agent, { ...env, ROLE: role }));
  procs.push(spawnService('director', SERVICE_MAIN.director, env));
});

afterAll(async () => {
  await stopAll(procs);
  await bus?.close();
  await ollama?.stop();
  await anthropic?.stop();
  await redis?.stop();
  rmSync(memoryDir, { recursive: true, force: true });
});

async function runToEnd(task: string): Promise<{ runId: string; events: RunEvent[] }> {
  const { runId } = await enqueueRun(redis.url, { task }, { prefix });
  const store = createRunStore(bus.redis, keys);
  const events = await waitFor(
    async () => {
      const list = (await store.read(runId)).map((e) => parseRunEvent(e.event));
      return ['finished', 'aborted', 'failed', 'waiting-human'].includes(fold(list).status)
        ? list
        : undefined;
    },
    {
      timeoutMs: 180_000,
      intervalMs: 300,
      what: `run ${runId} to end\n${procs.map((p) => p.tail(10)).join('\n')}`,
    },
  );
  return { runId, events };
}

describe('review debate', () => {
  it('debates a critical MD5 finding to Revise; the Builder loses 2 trust and P2 gets the finding', async () => {
    const { runId, events } = await runToEnd('MD5 task: store user passwords safely');
    const state = fold(events);
    expect(state.status, JSON.stringify(state.waiting)).toBe('finished');
    const decisions = events.filter((e) => e.type === 'decision.made') as Extract<
      RunEvent,
      { type: 'decision.made' }
    >[];
    expect(decisions[0]?.decision).toBe('revise');
    expect(decisions[0]?.rule).toBe('unanimous');
    expect(decisions[0]?.votes?.length).toBe(5);
    const trust = events.filter((e) => e.type === 'trust.changed') as Extract<
      RunEvent,
      { type: 'trust.changed' }
    >[];
    expect(trust[0]).toMatchObject({ role: 'builder', from: 7, to: 5, delta: -2 });
    expect(trust[0]?.reason).toMatch(/MD5/);
    const log = readFileSync(join(memoryDir, runId, 'decisions.md'), 'utf8');
    expect(log).toMatch(/REVISE/);
    expect(log).toMatch(/builder 7→5 \(-2/);
    // P2 of iteration 2: the Builder's request carried the finding.
    const builderCalls = ollama.records.filter(
      (r) => r.role === 'builder' && JSON.stringify(r.messages).includes('MD5 task'),
    );
    expect(builderCalls.some((r) => JSON.stringify(r.messages).includes('Password hashing uses MD5'))).toBe(
      true,
    );
    // Deployment-wide trust remembers it (and survives restarts: it lives in Redis).
    expect(Number(await bus.redis.hget(keys.trust, 'builder'))).toBeGreaterThanOrEqual(5);
  });

  it('ends a debate split for three rounds with the Director deciding, never a fourth round', async () => {
    const { runId, events } = await runToEnd('DEADLOCK task: pick a cache strategy');
    const decision = events.find((e) => e.type === 'decision.made') as Extract<
      RunEvent,
      { type: 'decision.made' }
    >;
    expect(decision.rule).toBe('max-rounds');
    expect(decision.decision).toBe('finish');
    const voteIds = (await readWholeLog(bus))
      .map((e) => e.message)
      .filter((m) => m?.runId === runId && m.type === 'REQUEST' && m.id.startsWith('vote_'))
      .map((m) => m?.id ?? '');
    expect(voteIds.some((id) => id.includes('_r3_'))).toBe(true);
    expect(voteIds.some((id) => id.includes('_r4_'))).toBe(false);
  });
});
