import { describe, expect, it } from 'vitest';
import { type RetentionCandidate, runsToArchive } from './retention.js';

const HOUR = 3_600_000;
const now = 100 * HOUR;
const runs: RetentionCandidate[] = [
  { runId: 'run_a', endedAt: now - 50 * HOUR },
  { runId: 'run_b', endedAt: now - 10 * HOUR },
  { runId: 'run_c', endedAt: now - 1 * HOUR },
  { runId: 'run_open_old', endedAt: null },
  { runId: 'run_d', endedAt: now - 30 * HOUR },
];

describe('runsToArchive', () => {
  it('chooses ended runs older than the age limit, oldest first', () => {
    expect(runsToArchive(runs, now, { maxAgeMs: 24 * HOUR, keep: 0, batch: 10 })).toEqual(['run_a', 'run_d']);
  });

  it('keeps only the newest `keep` ended runs when a count is set', () => {
    expect(runsToArchive(runs, now, { maxAgeMs: 0, keep: 2, batch: 10 })).toEqual(['run_a', 'run_d']);
    expect(runsToArchive(runs, now, { maxAgeMs: 0, keep: 1, batch: 10 })).toEqual([
      'run_a',
      'run_d',
      'run_b',
    ]);
  });

  it('archives a run that breaks either rule', () => {
    expect(runsToArchive(runs, now, { maxAgeMs: 40 * HOUR, keep: 3, batch: 10 })).toEqual(['run_a']);
    expect(runsToArchive(runs, now, { maxAgeMs: 5 * HOUR, keep: 3, batch: 10 })).toEqual([
      'run_a',
      'run_d',
      'run_b',
    ]);
  });

  it('never chooses a run that has not ended, however old or many', () => {
    const open = Array.from({ length: 5 }, (_, i) => ({ runId: `run_${i}`, endedAt: null }));
    expect(runsToArchive(open, now, { maxAgeMs: 1, keep: 1, batch: 10 })).toEqual([]);
    expect(runsToArchive(runs, now, { maxAgeMs: 1, keep: 0, batch: 10 })).not.toContain('run_open_old');
  });

  it('chooses nothing with both rules off, and at most `batch` runs', () => {
    expect(runsToArchive(runs, now, { maxAgeMs: 0, keep: 0, batch: 10 })).toEqual([]);
    expect(runsToArchive(runs, now, { maxAgeMs: 1, keep: 0, batch: 2 })).toEqual(['run_a', 'run_d']);
  });

  it('does not archive a run that ended exactly at the age limit', () => {
    expect(
      runsToArchive([{ runId: 'run_x', endedAt: now - HOUR }], now, { maxAgeMs: HOUR, keep: 0, batch: 1 }),
    ).toEqual([]);
  });
});
