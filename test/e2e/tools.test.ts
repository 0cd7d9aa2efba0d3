// Issue 6 acceptance, the tool loop end to end: real llm-gateway, builder and inspector processes
// (their built entry files), real Redis, and a fake Ollama whose script drives the tools. The
// Builder writes a module and its test into the run's own checkout of the workspace named by
// run.created (issue 18: never the named folder itself) and commits them on the run's branch; the Inspector runs `npm test`, which really passes; a model that calls tools forever is
// stopped at the cap with an ALERT; a tool outside the role's row is refused and nothing is written.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@nightshift/protocol';
import { type Bus, createBus, createKeys, createRunStore, listHeartbeats } from '@nightshift/redis';
import {
  type FakeOllama,
  freePort,
  type OllamaRequestInfo,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
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
import { ROOT } from './support/stack.js';

const CAP = 4;
const FIXED_SUM = `export function sum(values) {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
`;
const DOUBLE = '// Doubles a number.\nexport function double(x) {\n  return x * 2;\n}\n';
const DOUBLE_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { double } from '../src/double.js';

test('double doubles', () => {
  assert.equal(double(21), 42);
});
`;

const toolResults = (req: OllamaRequestInfo) =>
  req.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));

/** The scripted model: each rule keys on the request text the test sends. */
function scenario() {
  return [
    {
      match: { role: 'builder', contains: 'Add double()' },
      reply: (req: OllamaRequestInfo) =>
        toolResults(req).length === 0
          ? {
              toolCalls: [
                { name: 'write_file', arguments: { path: 'src/sum.js', content: FIXED_SUM } },
                { name: 'write_file', arguments: { path: 'src/double.js', content: DOUBLE } },
                { name: 'write_file', arguments: { path: 'test/double.test.js', content: DOUBLE_TEST } },
              ],
            }
          : { content: 'Added double() with its test, and fixed sum().' },
    },
    {
      match: { role: 'builder', contains: 'Keep looking' },
      reply: { toolCalls: [{ name: 'list_files', arguments: {} }] },
    },
    {
      match: { role: 'inspector', contains: 'Run the tests' },
      reply: (req: OllamaRequestInfo) => {
        const results = toolResults(req);
        if (results.length === 0)
          return { toolCalls: [{ name: 'run_command', arguments: { argv: ['npm', 'test'] } }] };
        const passed = results.some((r) => /exit code 0\b/.test(r));
        return {
          content: `npm test ${passed ? 'PASSES' : 'FAILS'}; double tested: ${/double doubles/.test(results[0] ?? '')}`,
        };
      },
    },
    {
      match: { role: 'inspector', contains: 'Sneak a file' },
      reply: (req: OllamaRequestInfo) =>
        toolResults(req).length === 0
          ? { toolCalls: [{ name: 'write_file', arguments: { path: 'sneaky.txt', content: 'x' } }] }
          : { content: `The tool said: ${toolResults(req)[0]}` },
    },
  ];
}

let redis: TestRedis;
let fake: FakeOllama;
let bus: Bus;
let dir: string;
let workspace: string;
let checkout: string;
const runId = 'run_tools_e2e';
const procs: ServiceProcess[] = [];
const health: Record<string, string> = {};

beforeAll(async () => {
  redis = await startRedis();
  fake = await startFakeOllama({ numParallel: 2, scenario: scenario() });
  bus = createBus({ url: redis.url, keys: createKeys(uniquePrefix()), onError: () => undefined });
  dir = mkdtempSync(join(tmpdir(), 'nightshift-tools-e2e-'));
  workspace = join(dir, 'named-workspace');
  checkout = join(dir, 'workspaces', runId);
  cpSync(join(ROOT, 'examples', 'sample-workspace'), workspace, { recursive: true });
  // The run names its workspace in run.created (without the checkout the Director's intake adds:
  // the agents then prepare it themselves, the same way).
  const store = createRunStore(bus.redis, bus.keys);
  const appended = await store.append(runId, 0, [
    { type: 'run.created', at: new Date().toISOString(), runId, task: 'tools e2e', workspace },
  ]);
  expect(appended.ok).toBe(true);

  const env = {
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: bus.keys.prefix,
    OLLAMA_HOST: fake.url,
    WORKSPACE_DIR: join(dir, 'workspaces'),
    WORKSPACE_ROOTS: dir,
    MEMORY_DIR: join(dir, 'memory'),
    TOOLS_MAX_ITERATIONS: String(CAP),
  };
  for (const [name, main, extra] of [
    ['gateway', GATEWAY_MAIN, {}],
    ['builder', AGENT_MAIN, { ROLE: 'builder' }],
    ['inspector', AGENT_MAIN, { ROLE: 'inspector' }],
  ] as const) {
    const port = String(await freePort());
    health[name] = `http://127.0.0.1:${port}/healthz`;
    procs.push(spawnService(name, main, serviceEnv({ ...env, ...extra, HEALTH_PORT: port })));
  }
  await waitFor(async () => (await listHeartbeats(bus.redis, bus.keys)).length >= 3, {
    timeoutMs: 60_000,
    what: 'three heartbeats',
  });
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' || process.env.DEBUG_E2E)
    for (const p of procs) console.error(p.tail(40));
});
afterAll(async () => {
  await stopAll(procs);
  await bus?.close();
  await fake?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function messages(): Promise<Message[]> {
  return (await readWholeLog(bus)).flatMap((e) => (e.message ? [e.message] : []));
}

async function answerTo(request: Message, type: 'RESPONSE' | 'ALERT' = 'RESPONSE'): Promise<Message> {
  return waitFor(async () => (await messages()).find((m) => m.type === type && m.inReplyTo === request.id), {
    timeoutMs: 90_000,
    what: `${type} to ${request.id}`,
  });
}

async function toolStatuses(request: Message): Promise<string[]> {
  return (await messages())
    .filter((m) => m.type === 'STATUS' && m.inReplyTo === request.id && m.content.startsWith('tool '))
    .map((m) => m.content);
}

function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: checkout, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('agents with tools (issue 6)', () => {
  it('serves /healthz from the gateway and both agents', async () => {
    for (const [name, url] of Object.entries(health)) {
      const report = await waitFor(
        async () => {
          const res = await fetch(url).catch(() => undefined);
          return res?.status === 200 ? ((await res.json()) as { ok: boolean; checks: object }) : undefined;
        },
        { timeoutMs: 30_000, what: `${name} /healthz` },
      );
      expect(report.ok).toBe(true);
      expect(Object.keys(report.checks)).toContain('redis');
    }
  });

  it('the Builder writes a module and its test into the run workspace and commits them', async () => {
    const request = requestTo('builder', 'Add double() in src/double.js with a test; fix sum().', {
      runId,
      phase: 2,
    });
    await bus.publish(request);
    const response = await answerTo(request);
    expect(response.content).toContain('Added double()');
    expect(readFileSync(join(checkout, 'src/double.js'), 'utf8')).toBe(DOUBLE);
    expect(readFileSync(join(checkout, 'test/double.test.js'), 'utf8')).toBe(DOUBLE_TEST);
    // The named folder itself is untouched: no new file, no repository made in it (issue 18).
    expect(existsSync(join(workspace, 'src/double.js'))).toBe(false);
    expect(existsSync(join(workspace, '.git'))).toBe(false);
    expect(git('symbolic-ref', '--short', 'HEAD').trim()).toBe(`nightshift/${runId}`);

    // A baseline commit, then the Builder's, both naming the run; the Builder's holds its files.
    const subjects = git('log', '--format=%s').trim().split('\n');
    expect(subjects).toHaveLength(2);
    expect(subjects[0]).toBe(`[run ${runId}] builder: Added double() with its test, and fixed sum().`);
    expect(subjects[1]).toContain(`[run ${runId}] baseline`);
    expect(git('show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort()).toEqual([
      'src/double.js',
      'src/sum.js',
      'test/double.test.js',
    ]);
    expect(git('status', '--porcelain').trim()).toBe('');

    // Each tool call was reported as a STATUS, file contents reduced to their length.
    expect(await toolStatuses(request)).toEqual([
      `tool write_file {"path":"src/sum.js","content":"<${FIXED_SUM.length} chars>"} → ok`,
      `tool write_file {"path":"src/double.js","content":"<${DOUBLE.length} chars>"} → ok`,
      `tool write_file {"path":"test/double.test.js","content":"<${DOUBLE_TEST.length} chars>"} → ok`,
    ]);
    const lines = response.context?.split('\n') ?? [];
    expect(lines).toContain('tools: 3 calls (write_file ×3)');
    expect(lines.some((l) => l.startsWith('commit ') && l.includes(`[run ${runId}] builder:`))).toBe(true);
    expect(lines.at(-1)).toMatch(/^model qwen3:32b · tokens in \d+ \/ out \d+$/);
  });

  it('the Inspector runs npm test in the workspace, and it really passes', async () => {
    const request = requestTo('inspector', 'Run the tests of the workspace.', { runId, phase: 3 });
    await bus.publish(request);
    const response = await answerTo(request);
    expect(response.content).toBe('npm test PASSES; double tested: true');
    const [status] = await toolStatuses(request);
    expect(status).toMatch(
      /^tool run_command \{"argv":\["npm","test"\]\} → ok \(exit code 0 after \d+ ms\)$/,
    );
    // The same command outside the agent agrees.
    expect(spawnSync('npm', ['test'], { cwd: checkout, encoding: 'utf8' }).status).toBe(0);
  });

  it('refuses a tool the role lacks ("not permitted for inspector") and writes nothing', async () => {
    const request = requestTo('inspector', 'Sneak a file into the workspace.', { runId, phase: 3 });
    await bus.publish(request);
    const response = await answerTo(request);
    expect(response.content).toBe(
      'The tool said: ERROR TOOL_NOT_PERMITTED: write_file is not permitted for inspector',
    );
    expect(await toolStatuses(request)).toEqual([
      'tool write_file {"path":"sneaky.txt","content":"x"} → error TOOL_NOT_PERMITTED: write_file is not permitted for inspector',
    ]);
    expect(existsSync(join(checkout, 'sneaky.txt'))).toBe(false);
    expect(git('status', '--porcelain').trim()).toBe('');
  });

  it('stops a model that calls tools forever at the cap, with an ALERT', async () => {
    const before = fake.records.filter((r) => r.role === 'builder').length;
    const request = requestTo('builder', 'Keep looking at the files.', { runId, phase: 2 });
    await bus.publish(request);
    const alert = await answerTo(request, 'ALERT');
    expect(alert.content).toContain(`tool loop hit its cap of ${CAP} iterations`);
    expect(alert.context).toBe('code: TOOL_LOOP_CAP');
    // Exactly CAP model calls; the last one's tool call was not run; no RESPONSE.
    expect(fake.records.filter((r) => r.role === 'builder').length - before).toBe(CAP);
    expect(await toolStatuses(request)).toHaveLength(CAP - 1);
    expect((await messages()).some((m) => m.type === 'RESPONSE' && m.inReplyTo === request.id)).toBe(false);
  });

  it('every service exits 0 on SIGTERM', async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual([0, 0, 0]);
  });
});
