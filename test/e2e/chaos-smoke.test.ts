// Issue 13 "CI runs a short smoke of chaos so it never rots": `node test/chaos/run.mjs --smoke` as
// a child process; it must exit 0 and its JSON must hold every scenario with lost = 0,
// duplicated = 0 and the limiter at most 2.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/stack.js';

const SCENARIOS = [
  'kill-9',
  'kill-all',
  'redis-restart',
  'ollama-outage',
  'anthropic-faults',
  'disk-full',
  'fuzz',
];
const dir = mkdtempSync(join(tmpdir(), 'ns-chaos-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ScenarioResult {
  scenario: string;
  ok: boolean;
  lost: number | null;
  duplicated: number | null;
  limiterMax: number | null;
  checks: { name: string; ok: boolean; detail?: string }[];
}

/** Runs the smoke; resolves with its exit code and output, SIGKILLing it past `timeoutMs`. */
function runSmoke(out: string, timeoutMs: number): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'test/chaos/run.mjs'), '--smoke', `--out=${out}`], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // SIGTERM first: the harness then kills its services and Redis on the way out.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', output });
    });
  });
}

describe('chaos smoke', () => {
  it(
    'runs every scenario: nothing lost, nothing answered twice, the limiter held',
    async () => {
      const out = join(dir, 'chaos-smoke.json');
      const { code, output } = await runSmoke(out, 25 * 60_000);
      expect(code, output).toBe(0);
      const report = JSON.parse(readFileSync(out, 'utf8')) as { ok: boolean; scenarios: ScenarioResult[] };
      expect(report.ok, output).toBe(true);
      expect(report.scenarios.map((s) => s.scenario).sort()).toEqual([...SCENARIOS].sort());
      for (const s of report.scenarios) {
        const failed = s.checks.filter((c) => !c.ok);
        expect(failed, `${s.scenario}: ${JSON.stringify(failed)}`).toEqual([]);
        expect(s.ok, s.scenario).toBe(true);
        expect(s.lost, `${s.scenario} lost`).toBe(0);
        expect(s.duplicated, `${s.scenario} duplicated`).toBe(0);
        expect(s.limiterMax, `${s.scenario} limiter max`).not.toBeNull();
        expect(s.limiterMax ?? Number.POSITIVE_INFINITY, `${s.scenario} limiter max`).toBeLessThanOrEqual(2);
      }
    },
    26 * 60_000,
  );
});
