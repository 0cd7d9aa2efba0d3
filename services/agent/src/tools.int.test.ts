// Agents with tools in-process against real Redis: ask_scout as a REQUEST to a real Scout agent
// awaited on the bus, its timeout, and the default per-run workspace with its baseline commit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatRequest, ScriptedChatModel } from '@nightshift/llm';
import { type Message, newId, type WorkerRole } from '@nightshift/protocol';
import { type Bus, createBus, createKeys, createRedisClient } from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentService } from './agent.js';
import type { AgentToolOptions } from './tool-session.js';

let redis: TestRedis;
let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];
const logger = createLogger({ service: 'agent-tools-test', level: 'silent' });

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'nightshift-agent-tools-'));
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

function tools(extra: Partial<AgentToolOptions> = {}): AgentToolOptions {
  return {
    workspaceDir: join(dir, 'workspaces'),
    checkout: {
      roots: [join(dir, 'workspaces')],
      branchPrefix: 'nightshift/',
      identity: { name: 'Night Team', email: 'team@example.com' },
    },
    allowlist: ['npm test'],
    commandTimeoutMs: 30_000,
    outputCapBytes: 65_536,
    deny: ['gateway', 'cron'],
    // ask_scout for the builder, as ROLE_TOOLS_BUILDER can grant it.
    toolsByRole: { builder: ['read_file', 'write_file', 'ask_scout'] },
    maxIterations: 5,
    contextBudgetChars: 24_000,
    scoutTimeoutMs: 30_000,
    ...extra,
  };
}

async function agent(bus: Bus, role: WorkerRole, model: ScriptedChatModel, options?: AgentToolOptions) {
  const connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
  cleanups.push(async () => connection.disconnect());
  const service = new AgentService({
    role,
    bus,
    connection,
    model,
    logger,
    timeoutSeconds: 60,
    concurrency: 1,
    llmPriority: 3,
    lockDurationMs: 5000,
    stalledIntervalMs: 5000,
    maxStalledCount: 3,
    retry: { attempts: 2, baseMs: 10 },
    ...(options ? { tools: options } : {}),
  });
  cleanups.push(() => service.stop());
  await service.start();
  return service;
}

function openBus(): Bus {
  const bus = createBus({ url: redis.url, keys: createKeys(uniquePrefix()), onError: () => undefined });
  cleanups.push(() => bus.close());
  return bus;
}

const request = (to: WorkerRole, content: string, runId: string): Message => ({
  id: newId('msg'),
  runId,
  from: 'director',
  to,
  type: 'REQUEST',
  priority: 'NORMAL',
  timestamp: new Date().toISOString(),
  content,
  phase: 2,
});

/** Asks Scout first; then answers with whatever the tool said. */
function askingBuilder(): ScriptedChatModel {
  return new ScriptedChatModel({
    replies: (req: ChatRequest) => {
      const result = req.messages.find((m) => m.role === 'tool');
      if (result) return `Scout said: ${result.content}`;
      return { text: '', toolCalls: [{ name: 'ask_scout', arguments: { question: 'Which token format?' } }] };
    },
  });
}

async function answer(bus: Bus, id: string): Promise<Message> {
  return waitFor(
    async () =>
      (await bus.readLog({ count: 1000 })).find(
        (e) => e.message?.type === 'RESPONSE' && e.message.inReplyTo === id,
      )?.message,
    { timeoutMs: 60_000, what: `the answer to ${id}` },
  );
}

describe('ask_scout', () => {
  it('sends Scout a REQUEST on the bus and hands its answer to the asking model', async () => {
    const bus = openBus();
    const builder = askingBuilder();
    await agent(bus, 'builder', builder, tools());
    await agent(bus, 'scout', new ScriptedChatModel({ replies: ['JWT is standard.'] }));
    const req = request('builder', 'Implement login.', 'run_ask');
    await bus.publish(req);
    const response = await answer(bus, req.id);
    expect(response.content).toMatch(/^Scout said: JWT is standard\./);
    // The question travelled as a REQUEST from the builder to Scout, answered back to the builder.
    const log = (await bus.readLog({ count: 1000 })).flatMap((e) => (e.message ? [e.message] : []));
    const question = log.find((m) => m.type === 'REQUEST' && m.to === 'scout');
    expect(question).toMatchObject({
      from: 'builder',
      runId: 'run_ask',
      content: 'Which token format?',
      phase: 2,
    });
    const reply = log.find((m) => m.type === 'RESPONSE' && m.inReplyTo === question?.id);
    expect(reply).toMatchObject({ from: 'scout', to: 'builder' });
    // ask_scout was offered because config granted it; the model saw it.
    expect(builder.calls[0]?.tools?.map((t) => t.name)).toContain('ask_scout');
  });

  it('gives the model a timeout error when Scout does not answer', async () => {
    const bus = openBus();
    await agent(bus, 'builder', askingBuilder(), tools({ scoutTimeoutMs: 500 }));
    const req = request('builder', 'Implement login.', 'run_ask_timeout');
    await bus.publish(req);
    const response = await answer(bus, req.id);
    expect(response.content).toMatch(/^Scout said: ERROR TIMEOUT: .*timed out/);
  });

  it('works in <WORKSPACE_DIR>/<runId> when the run names no workspace, on its own branch', async () => {
    const bus = openBus();
    const model = new ScriptedChatModel({
      replies: (req: ChatRequest) =>
        req.messages.some((m) => m.role === 'tool')
          ? 'Wrote notes.md.'
          : {
              text: '',
              toolCalls: [{ name: 'write_file', arguments: { path: 'notes.md', content: '# notes\n' } }],
            },
    });
    await agent(bus, 'builder', model, tools());
    const req = request('builder', 'Write notes.', 'run_default_ws');
    await bus.publish(req);
    await answer(bus, req.id);
    const root = join(dir, 'workspaces', 'run_default_ws');
    expect(readFileSync(join(root, 'notes.md'), 'utf8')).toBe('# notes\n');
    const log = spawnSync('git', ['log', '--format=%an|%s', 'nightshift/run_default_ws'], {
      cwd: root,
      encoding: 'utf8',
    })
      .stdout.trim()
      .split('\n');
    // Issue 18: on the run's own branch, as the configured author, over the baseline commit.
    expect(log).toEqual([
      'Night Team|[run run_default_ws] builder: Wrote notes.md.',
      'Night Team|[run run_default_ws] baseline: the workspace as the run found it',
    ]);
  });
});

describe('the command sandbox', () => {
  it('unavailable: the model gets SANDBOX_UNAVAILABLE, and the agent raises ONE ALERT naming the fix', async () => {
    const bus = openBus();
    // Two run_command calls per request, two requests: four refusals, one ALERT.
    const model = new ScriptedChatModel({
      replies: (req: ChatRequest) => {
        const results = req.messages.filter((m) => m.role === 'tool');
        if (results.length >= 2) return `Tests could not run: ${results[0]?.content}`;
        return { text: '', toolCalls: [{ name: 'run_command', arguments: { argv: ['npm', 'test'] } }] };
      },
    });
    await agent(bus, 'inspector', model, tools({ sandbox: { bwrapPath: '/nonexistent/bwrap' } }));
    const first = request('inspector', 'Run the tests.', 'run_sbx');
    await bus.publish(first);
    expect((await answer(bus, first.id)).content).toMatch(/SANDBOX_UNAVAILABLE.*apt-get install bubblewrap/);
    const second = request('inspector', 'Run the tests again.', 'run_sbx');
    await bus.publish(second);
    await answer(bus, second.id);
    const alerts = (await bus.readLog({ count: 1000 }))
      .flatMap((e) => (e.message ? [e.message] : []))
      .filter((m) => m.type === 'ALERT' && m.context === 'code: SANDBOX_UNAVAILABLE');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ from: 'inspector', to: 'director' });
    expect(alerts[0]?.content).toContain('Fix: install bubblewrap');
  });
});
