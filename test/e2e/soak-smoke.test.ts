// Issue 21 acceptance: `node test/soak/run.mjs --smoke` (a few runs, one fault of each kind) runs in
// CI and asserts the end-of-soak checks and that growth stayed under its bounds — never a timing.
// The harness is a child process; this test reads its JSON.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHarness } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'ns-soak-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Check {
  name: string;
  ok: boolean | null;
  status: 'pass' | 'fail';
  detail: string;
}

interface SoakReport {
  ok: boolean;
  mode: string;
  checks: Check[];
  faults: { kind: string; recovered: boolean }[];
  runs: { runId: string; status: string }[];
  samples: { rss: Record<string, unknown>; redis?: { keys: number } }[];
  plots: { file: string }[];
  retained: { allArchived: boolean; archives: number; runsInRedis: number };
}

const soak = (args: string[], timeoutMs: number) => runHarness('test/soak/run.mjs', args, timeoutMs);

const byName = (report: SoakReport, start: string) => report.checks.find((c) => c.name.startsWith(start));

describe('soak smoke', () => {
  it('refuses a bad flag, naming it and the expected form, before starting anything', async () => {
    const { code, output } = await soak(['--smoke', '--runs=zero', '--faults=meteor'], 60_000);
    expect(code).toBe(1);
    expect(output).toContain('--runs: expected a positive integer (got "zero")');
    expect(output).toContain('--faults: expected a comma list of kill, redis-restart, ollama-outage');
  });

  it(
    'runs, faults of each kind, then every end check and growth bound holds, retention on',
    async () => {
      const out = join(dir, 'soak.json');
      const { code, output } = await soak(
        ['--smoke', `--out=${out}`, `--plots=${join(dir, 'plots')}`],
        12 * 60_000,
      );
      expect(existsSync(out), output).toBe(true);
      const report = JSON.parse(readFileSync(out, 'utf8')) as SoakReport;
      const failed = report.checks.filter((c) => c.status === 'fail');
      expect(failed, output).toEqual([]);
      expect(code, output).toBe(0);
      expect(report.ok).toBe(true);

      // One of each fault, and the runs went on after each.
      expect(report.faults.map((f) => f.kind).sort()).toEqual(['kill', 'ollama-outage', 'redis-restart']);
      expect(report.faults.every((f) => f.recovered)).toBe(true);

      // §4: each end-of-soak check ran and passed.
      for (const name of [
        'every run finished',
        'every run’s events fold',
        'replay agrees with every recorded run',
        'no orphan job in any queue',
        'no consumer group with pending entries',
        'no worktree or temp dir left behind',
      ])
        expect(byName(report, name)?.status, name).toBe('pass');
      expect(report.runs.length).toBeGreaterThanOrEqual(4);
      expect(report.runs.every((r) => r.status === 'finished' || r.status === 'waiting-human')).toBe(true);

      // §2: growth under its bounds, measured on real samples (RSS of the services, Redis keys).
      for (const name of ['RSS slope of every service', 'Redis keys ≤', 'Redis used_memory ≤'])
        expect(byName(report, name)?.status, name).toBe('pass');
      expect(report.samples.filter((s) => Object.keys(s.rss).length > 0).length).toBeGreaterThan(3);
      expect(report.samples.some((s) => (s.redis?.keys ?? 0) > 0)).toBe(true);
      // Retention archived every run out of Redis, and what stayed is under its absolute bound.
      expect(byName(report, 'Redis bounded absolutely by retention')?.status).toBe('pass');
      expect(report.retained.allArchived).toBe(true);
      expect(report.retained.archives).toBe(report.runs.length);
      expect(report.retained.runsInRedis).toBe(0);
      expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);

      // The table's plots were rendered by the report pipeline.
      expect(report.plots.map((p) => p.file)).toContain('soak-rss.svg');
      expect(readFileSync(join(dir, 'plots', 'soak-rss.svg'), 'utf8')).toMatch(/^<svg/);
    },
    13 * 60_000,
  );
});
