// The README's first command (`npm run demo` = `nightshift demo`) end to end, as a newcomer runs
// it: the whole stack on the simulated model, whose fake Ollama plays a real server's habits
// (issue 20: reasoning inline, a tool call written as text); the run finishes, the workspace's
// tests pass, and the summary shows the run's branch and diff (issue 18).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type TestRedis, uniquePrefix } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess, simEnv } from './support/sim-night.js';

let redis: TestRedis;
const dir = mkdtempSync(join(tmpdir(), 'ns-demo-'));

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('runs a full simulated night and its summary shows the finished run, its branch and its diff', async () => {
    const data = join(dir, 'data');
    const env = {
      ...simEnv({
        dir,
        redisUrl: redis.url,
        prefix: uniquePrefix(),
        dashboardPort: await freePort(),
        workspaces: join(data, 'workspaces'),
      }),
      MEMORY_DIR: join(data, 'memory'),
    };
    const demo = await runCliProcess(env, dir, ['demo', '--data', data, '--timeout', '300']);
    expect(demo.code, `${demo.stdout}\n${demo.stderr}`).toBe(0);
    const out = demo.stdout;
    expect(out).toContain('SIMULATED');
    expect(out).toMatch(/■ run finished: success/);
    const runId = /^run {8}(run_\w+): finished \(success\)$/m.exec(out)?.[1];
    expect(runId, out).toBeDefined();
    expect(out).toMatch(/^npm test {3}PASSES in /m);
    expect(out).toContain(`branch     nightshift/${runId} in `);
    expect(out).toMatch(new RegExp(`commit {3}[0-9a-f]{12} \\[run ${runId}\\] build i1 · builder: `));
    expect(out).toMatch(/src\/sum\.js \| 2 \+-/);
    expect(out).toContain('│ +  for (let i = 0; i < values.length; i++) total += values[i];');
    // The Architect reasoned inline first: the team's messages carry its answer, never the reasoning.
    const messages = join(data, 'memory', runId as string, 'messages');
    const written = readdirSync(messages)
      .map((f) => readFileSync(join(messages, f), 'utf8'))
      .join('\n');
    expect(written).toContain('sum() in src/sum.js');
    expect(written).not.toMatch(/<think>|design yet/);
  });
});
