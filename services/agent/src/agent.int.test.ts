// AgentService in-process against real Redis and the real bus, with a scripted (simulated) model:
// answers, replies' routing, dead-lettering bad jobs, role timeout, failures, duplicate attempts.
import { type ChatModel, ScriptedChatModel } from '@nightshift/llm';
import {
  type Message,
  NightshiftError,
  newId,
  OUTPUT_JSON_SCHEMAS,
  type WorkerRole,
} from '@nightshift/protocol';
import {
  type Bus,
  createBus,
  createKeys,
  createRedisClient,
  QUEUE_NAMES,
  type RedisClient,
} from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentService, assertWorkerRole } from './agent.js';

let redis: TestRedis;
const cleanups: (() => Promise<unknown>)[] = [];
const logger = createLogger({ service: 'agent-test', level: 'silent' });

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => redis.stop());

interface Harness {
  bus: Bus;
  agent: AgentService;
  connection: RedisClient;
  queue(name: string): Queue;
  log(): Promise<Message[]>;
}

async function startAgent(
  role: WorkerRole,
  model: ChatModel,
  extra: { timeoutSeconds?: number; runTimeoutSeconds?: number } = {},
): Promise<Harness> {
  const keys = createKeys(uniquePrefix());
  const bus = createBus({ url: redis.url, keys, onError: () => undefined });
  const connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
  cleanups.push(async () => {
    await bus.close();
    connection.disconnect();
  });
  const agent = new AgentService({
    role,
    bus,
    connection,
    model,
    logger,
    timeoutSeconds: extra.timeoutSeconds ?? 60,
    ...(extra.runTimeoutSeconds === undefined ? {} : { runTimeoutSeconds: extra.runTimeoutSeconds }),
    concurrency: 2,
    llmPriority: 3,
    lockDurationMs: 5000,
    stalledIntervalMs: 5000,
    maxStalledCount: 3,
    retry: { attempts: 3, baseMs: 10 },
  });
  cleanups.push(() => agent.stop());
  await agent.start();
  return {
    bus,
    agent,
    connection,
    queue(name) {
      const queue = new Queue(name, { connection, prefix: keys.prefix });
      cleanups.push(() => queue.close());
      return queue;
    },
    async log() {
      return (await bus.readLog({ count: 1000 })).flatMap((e) => (e.message ? [e.message] : []));
    },
  };
}

function request(to: WorkerRole, content: string, extra: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: 'run_t',
    from: 'director',
    to,
    type: 'REQUEST',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content,
    ...extra,
  };
}

const formatted = (content: string) =>
  `FROM: Builder\nTO: Director\nTYPE: RESPONSE\nPRIORITY: NORMAL\nTIMESTAMP: 2026-01-28T03:50:00Z\n\n### Content\n${content}\n\n### Context\nfrom the test\n`;

describe('AgentService', () => {
  it('answers a REQUEST: STATUS, then one RESPONSE to the sender with the model’s sections', async () => {
    const model = new ScriptedChatModel({ replies: [formatted('Parser implemented.')] });
    const h = await startAgent('builder', model);
    const req = request('builder', 'Implement the parser.', { phase: 2 });
    await h.bus.publish(req);
    const response = await waitFor(async () => (await h.log()).find((m) => m.type === 'RESPONSE'), {
      what: 'RESPONSE',
    });
    expect(response).toMatchObject({
      id: `rsp_${req.id}`,
      from: 'builder',
      to: 'director',
      inReplyTo: req.id,
      runId: 'run_t',
      phase: 2,
      attempt: 1,
      content: 'Parser implemented.',
    });
    // The model's context, then the usage line the Director accounts the run's budget with.
    const lines = response.context?.split('\n') ?? [];
    expect(lines[0]).toBe('from the test');
    expect(lines.at(-1)).toMatch(/^model simulated:scripted · tokens in \d+ \/ out \d+$/);
    const types = (await h.log()).map((m) => m.type);
    expect(types).toEqual(['REQUEST', 'STATUS', 'RESPONSE']);
    // The model saw the builder persona and the request in the guide's format.
    const call = model.calls[0];
    expect(call?.role).toBe('builder');
    expect(call?.messages[0]?.content).toContain('ROLE: builder');
    expect(call?.messages[1]?.content).toContain(`ID: ${req.id}`);
    expect(h.agent.usage.snapshot().byRun.run_t?.calls).toBe(1);
  });

  it('lets Scout answer the agent that asked', async () => {
    const h = await startAgent('scout', new ScriptedChatModel({ replies: ['JWT is standard.'] }));
    const req = request('scout', 'Which token format?', { from: 'builder' });
    await h.bus.publish(req);
    const response = await waitFor(async () => (await h.log()).find((m) => m.type === 'RESPONSE'), {
      what: 'RESPONSE',
    });
    expect(response.to).toBe('builder');
    expect(response.content).toContain('JWT is standard.');
  });

  it('dead-letters bad jobs with a reason and keeps serving', async () => {
    const h = await startAgent('builder', new ScriptedChatModel({ replies: ['fine'] }));
    const work = h.queue(QUEUE_NAMES.agent('builder'));
    const good = request('builder', 'ok');
    const bad: [string, unknown][] = [
      ['garbage', 'this is not a message'],
      ['unknown-role', { ...request('builder', 'x'), from: 'wizard' }],
      ['topology', { ...request('builder', 'x'), from: 'architect' }],
      ['huge', request('builder', 'x'.repeat(1024 * 1024))],
      ['not-request', { ...request('builder', 'x'), type: 'STATUS' }],
      ['misrouted', request('scout', 'x')],
    ];
    for (const [id, data] of bad) await work.add('REQUEST', data, { jobId: id, priority: 3 });
    await h.bus.publish(good);
    await waitFor(async () => (await h.log()).some((m) => m.type === 'RESPONSE' && m.inReplyTo === good.id), {
      what: 'good answer',
    });

    const dead = h.queue(QUEUE_NAMES.deadLetter);
    const letters = await waitFor(
      async () => {
        const jobs = await dead.getJobs(['waiting', 'prioritized']);
        return jobs.length === bad.length ? jobs : undefined;
      },
      { what: 'six dead letters' },
    );
    const reasons = Object.fromEntries(
      letters.map((j) => [
        String(j.id).replace(`dl.${QUEUE_NAMES.agent('builder')}.`, ''),
        String(j.data.reason),
      ]),
    );
    expect(reasons.garbage).toMatch(/invalid message/);
    expect(reasons['unknown-role']).toMatch(/invalid message: from/);
    expect(reasons.topology).toMatch(/topology violation/);
    expect(reasons.huge).toMatch(/invalid message: content/);
    expect(reasons['not-request']).toMatch(/not a REQUEST/);
    expect(reasons.misrouted).toMatch(/misrouted/);
    for (const [id] of bad) expect(await work.getJobState(id)).toBe('failed');
    expect(h.agent.stats.running).toBe(true);
  });

  it('fails a task past the role timeout with an ALERT and no RESPONSE', async () => {
    const h = await startAgent(
      'inspector',
      new ScriptedChatModel({ replies: ['too late'], latencyMs: 30_000 }),
      {
        timeoutSeconds: 1,
      },
    );
    const req = request('inspector', 'Review everything.');
    await h.bus.publish(req);
    const alert = await waitFor(async () => (await h.log()).find((m) => m.type === 'ALERT'), {
      what: 'ALERT',
    });
    expect(alert).toMatchObject({
      from: 'inspector',
      to: 'director',
      inReplyTo: req.id,
      context: 'code: TIMEOUT',
    });
    expect(alert.content).toMatch(/role timeout/);
    const work = h.queue(QUEUE_NAMES.agent('inspector'));
    await waitFor(async () => (await work.getJobState(req.id)) === 'failed', { what: 'job failed' });
    const job = await work.getJob(req.id);
    expect(job?.failedReason).toMatch(/TIMEOUT/);
    expect((await h.log()).some((m) => m.type === 'RESPONSE')).toBe(false);
  });

  it('raises an ALERT when the model fails for good', async () => {
    const fatal = new NightshiftError('LLM_MODEL_NOT_FOUND', 'model "x" is not installed', {
      category: 'fatal',
    });
    const h = await startAgent('refactorer', new ScriptedChatModel({ replies: [fatal] }));
    await h.bus.publish(request('refactorer', 'Tidy up.'));
    const alert = await waitFor(async () => (await h.log()).find((m) => m.type === 'ALERT'), {
      what: 'ALERT',
    });
    expect(alert.context).toBe('code: LLM_MODEL_NOT_FOUND');
  });

  it('caps a task by subagents.runTimeoutSeconds from its first start, across restarts of its job', async () => {
    const model = new ScriptedChatModel({ replies: ['too late'], latencyMs: 30_000 });
    const h = await startAgent('builder', model, { timeoutSeconds: 60, runTimeoutSeconds: 1 });
    const slow = request('builder', 'Takes longer than the run timeout.');
    await h.bus.publish(slow);
    const alert = await waitFor(
      async () => (await h.log()).find((m) => m.type === 'ALERT' && m.inReplyTo === slow.id),
      { what: 'ALERT of the slow task' },
    );
    expect(alert.content).toMatch(/runTimeoutSeconds/);
    // A task first started 5 s ago (an attempt that crashed) is given up at once on its restart.
    const restarted = request('builder', 'Crashed earlier.');
    const calls = model.calls.length;
    await h.bus.redis.set(h.bus.keys.custom('task', restarted.id, 'started'), String(Date.now() - 5000));
    await h.bus.publish(restarted);
    const second = await waitFor(
      async () => (await h.log()).find((m) => m.type === 'ALERT' && m.inReplyTo === restarted.id),
      { what: 'ALERT of the restarted task' },
    );
    expect(second.content).toMatch(/runTimeoutSeconds, counted from its first start/);
    expect(model.calls.length).toBe(calls);
    const work = h.queue(QUEUE_NAMES.agent('builder'));
    await waitFor(async () => (await work.getJobState(restarted.id)) === 'failed', { what: 'job failed' });
    expect((await h.log()).some((m) => m.type === 'RESPONSE')).toBe(false);
  });

  it('does not ask the model again, nor answer twice, when a request was already answered', async () => {
    const model = new ScriptedChatModel({ replies: ['again'] });
    const h = await startAgent('builder', model);
    const req = request('builder', 'Repeat after a crash.');
    // As left behind by an attempt that published its answer and died before completing its job.
    const earlier = await h.bus.publish({
      ...request('builder', 'answered before the crash'),
      id: `rsp_${req.id}`,
      from: 'builder',
      to: 'director',
      type: 'RESPONSE',
      inReplyTo: req.id,
    });
    await h.bus.publish(req);
    const work = h.queue(QUEUE_NAMES.agent('builder'));
    await waitFor(async () => (await work.getJobState(req.id)) === 'completed', { what: 'job completed' });
    expect(model.calls).toHaveLength(0);
    const responses = (await h.log()).filter((m) => m.type === 'RESPONSE');
    expect(responses.map((m) => m.content)).toEqual(['answered before the crash']);
    expect((await work.getJob(req.id))?.returnvalue).toMatchObject({
      responseId: `rsp_${req.id}`,
      published: false,
      logId: earlier.logId,
    });
  });

  it('does not run a request again when it is re-published after its finished job was removed', async () => {
    const model = new ScriptedChatModel({ replies: [formatted('only once'), formatted('twice')] });
    const h = await startAgent('builder', model);
    const req = request('builder', 'Once only.');
    const first = await h.bus.publish(req);
    const work = h.queue(QUEUE_NAMES.agent('builder'));
    await waitFor(async () => (await work.getJobState(req.id)) === 'completed', { what: 'job completed' });
    // removeOnComplete trimmed the job; then the Director, restarting, sends the request again.
    await (await work.getJob(req.id))?.remove();
    const again = await h.bus.publish(req);
    expect(again).toEqual({ logId: first.logId, jobId: req.id, duplicate: true });
    expect(await work.getJob(req.id)).toBeUndefined();
    expect(model.calls).toHaveLength(1);
    const log = await h.log();
    expect(log.filter((m) => m.id === req.id)).toHaveLength(1);
    expect(log.filter((m) => m.type === 'RESPONSE' && m.inReplyTo === req.id)).toHaveLength(1);
    expect(log.filter((m) => m.type === 'STATUS' && m.inReplyTo === req.id)).toHaveLength(1);
  });

  it('reads its inbox and ALL: remembers the newest DECISION, dead-letters a misrouted entry', async () => {
    const h = await startAgent('scout', new ScriptedChatModel({ replies: [] }));
    const decision = (content: string): Message => ({
      ...request('scout', content),
      from: 'director',
      to: 'ALL',
      type: 'DECISION',
    });
    await h.bus.publish(decision('Decision: REVISE. Tighten the parser.'));
    await h.bus.publish(decision('Decision: CONTINUE.'));
    await h.bus.publish({ ...request('scout', 'The Builder is done.'), type: 'STATUS' });
    // Written around publish(): a STATUS for the builder inside the scout's inbox.
    const stray = { ...request('builder', 'not for scout'), type: 'STATUS' };
    const strayId = await h.bus.redis.xadd(h.bus.keys.busTo('scout'), '*', 'message', JSON.stringify(stray));
    await waitFor(() => h.agent.stats.inbox >= 3, { what: 'three inbox messages read' });
    expect(h.agent.latestDecision('run_t')).toBe('Decision: CONTINUE.');
    const dead = h.queue(QUEUE_NAMES.deadLetter);
    const letter = await waitFor(
      async () => (await dead.getJobs(['waiting', 'prioritized'])).find((j) => j?.data?.entryId === strayId),
      { what: 'the misrouted entry dead-lettered' },
    );
    expect(letter.data.reason).toMatch(/^misrouted: a message to builder/);
    expect(h.agent.stats.inbox).toBe(3);
    const pending = (await h.bus.redis.xpending(h.bus.keys.busTo('scout'), 'scout')) as [number];
    expect(Number(pending[0])).toBe(0);
  });

  it('asks once more for a required output that is missing, then answers with it', async () => {
    const model = new ScriptedChatModel({
      replies: ['Design: keep it small.', 'Design: keep it small.\n{"components": ["parser"], "risks": []}'],
    });
    const h = await startAgent('architect', model);
    const req = request('architect', 'Design the parser.', { output: 'design' });
    await h.bus.publish(req);
    const response = await waitFor(async () => (await h.log()).find((m) => m.type === 'RESPONSE'), {
      what: 'RESPONSE',
    });
    expect(response.content).toContain('"components": ["parser"]');
    expect(model.calls).toHaveLength(2);
    const second = model.calls[1]?.messages.at(-1)?.content ?? '';
    expect(second).toMatch(/does not have the required design output: no JSON object/);
    // The second ask, which needs no tools, is constrained to the design's JSON Schema (issue 20 §4).
    expect(model.calls[0]?.format).toBeUndefined();
    expect(model.calls[1]?.format).toEqual(OUTPUT_JSON_SCHEMAS.design);
    expect((await h.log()).some((m) => m.type === 'ALERT')).toBe(false);
  });

  it('raises an ALERT, not a RESPONSE, when the second reply also lacks the required output', async () => {
    const model = new ScriptedChatModel({
      replies: ['{"findings": [{"severity": "blocker", "description": "x"}]}', 'Looks fine to me.'],
    });
    const h = await startAgent('inspector', model);
    const req = request('inspector', 'Review the parser.', { output: 'findings' });
    await h.bus.publish(req);
    const alert = await waitFor(async () => (await h.log()).find((m) => m.type === 'ALERT'), {
      what: 'ALERT',
    });
    expect(alert).toMatchObject({ inReplyTo: req.id, context: 'code: OUTPUT_INVALID' });
    expect(alert.content).toMatch(
      /no valid findings output: no JSON object .*asked twice; first: findings\.0\.severity/,
    );
    expect(model.calls).toHaveLength(2);
    const work = h.queue(QUEUE_NAMES.agent('inspector'));
    await waitFor(async () => (await work.getJobState(req.id)) === 'failed', { what: 'job failed' });
    expect((await h.log()).some((m) => m.type === 'RESPONSE')).toBe(false);
  });

  it('reports the files a changes output really wrote, and needs a summary', async () => {
    const model = new ScriptedChatModel({ replies: ['Fixed the off-by-one in the loop.'] });
    const h = await startAgent('builder', model);
    const req = request('builder', 'Fix it.', { output: 'changes' });
    await h.bus.publish(req);
    const response = await waitFor(async () => (await h.log()).find((m) => m.type === 'RESPONSE'), {
      what: 'RESPONSE',
    });
    // No tool session in this harness, so nothing was written: the line says so.
    expect(response.context).toContain('changed files: none');
    expect(model.calls).toHaveLength(1);
  });

  it('lets the running job finish when stopped', async () => {
    const h = await startAgent(
      'builder',
      new ScriptedChatModel({ replies: ['finished in time'], latencyMs: 500 }),
    );
    const req = request('builder', 'Almost done.');
    await h.bus.publish(req);
    await waitFor(() => h.agent.stats.active === 1, { what: 'job running' });
    await h.agent.stop();
    const response = (await h.log()).find((m) => m.type === 'RESPONSE');
    expect(response?.content).toContain('finished in time');
  });
});

describe('assertWorkerRole', () => {
  it('accepts the five worker roles and refuses the rest clearly', () => {
    expect(assertWorkerRole('builder')).toBe('builder');
    expect(() => assertWorkerRole('director')).toThrow(/own service/);
    expect(() => assertWorkerRole('scribe')).toThrow(/services\/scribe/);
    expect(() => assertWorkerRole(undefined)).toThrow(/ROLE is not set/);
    expect(() => assertWorkerRole('wizard')).toThrow(/architect, scout, builder, refactorer, inspector/);
  });
});
