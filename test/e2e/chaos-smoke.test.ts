// Issue 13 "CI runs a short smoke of chaos so it never rots": `node test/chaos/run.mjs --smoke` as
// a child process; it must exit 0 and its JSON must hold every scenario with lost = 0,
// duplicated = 0 and the limiter at most 2.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHarness } from './support/harness.js';

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

describe('chaos smoke', () => {
  it(
    'runs every scenario: nothing lost, nothing answered twice, the limiter held',
    async () => {
      const out = join(dir, 'chaos-smoke.json');
      const { code, output } = await runHarness(
        'test/chaos/run.mjs',
        ['--smoke', `--out=${out}`],
        25 * 60_000,
        15_000,
      );
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
