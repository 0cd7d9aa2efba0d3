// Pruning checkouts of ended runs (issue 18 §3): after the retention only, branches kept, never a
// run whose branch lives only in its checkout.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunCheckout } from '@nightshift/protocol';
import type { RunStore } from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { hostTag, prepareRunCheckout } from '@nightshift/tools';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckoutPruner, pruneCheckouts } from './prune.js';

const dir = mkdtempSync(join(tmpdir(), 'ns-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env.PATH ?? '', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();

const HOUR = 3_600_000;
const NOW = Date.parse('2026-01-02T12:00:00Z');

function fakeStore(
  runs: Record<
    string,
    { checkout: RunCheckout; status: 'finished' | 'running'; at: string; archived?: boolean }
  >,
) {
  const events = (runId: string) => {
    const r = runs[runId];
    if (!r) return [];
    const created = { type: 'run.created', at: r.at, runId, task: 't', checkout: r.checkout };
    const ended = { type: 'run.finished', at: r.at, outcome: 'success' };
    return (r.status === 'finished' ? [created, ended] : [created]).map((event, i) => ({
      version: i + 1,
      event,
    }));
  };
  return {
    // An archived run (issue 21 §2) is not listed in Redis but is still read (from its archive).
    list: async () => Object.keys(runs).filter((id) => !runs[id]?.archived),
    read: async (runId: string) => events(runId),
  } as unknown as RunStore;
}

describe('pruneCheckouts', () => {
  it('removes the checkouts of runs ended before the retention, keeps their branches and everything else', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'a.txt'), 'a\n');
    git(repo, 'init', '--quiet', '--initial-branch=main');
    git(repo, 'add', '.');
    git(repo, '-c', 'user.name=U', '-c', 'user.email=u@x', 'commit', '--quiet', '-m', 'one');
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    const wsDir = join(dir, 'ws');
    const make = (runId: string, requested: string) =>
      prepareRunCheckout({
        runId,
        workspaceDir: wsDir,
        requested,
        roots: [dir],
        branchPrefix: 'nightshift/',
        identity: { name: 'T', email: 't@x' },
      });
    const old = await make('run_old', repo);
    const recent = await make('run_recent', repo);
    const running = await make('run_running', repo);
    const copied = await make('run_copied', plain);
    const archived = await make('run_archived', repo);
    const archivedRecent = await make('run_archived_recent', repo);
    // A checkout half-built by a crash two hours ago, and one being built right now.
    // (names of the form before issue 21, without a host: judged by age), and one of a dead pid on
    // this host made a moment ago (no pid reaches 2^22 + 1, the kernel's pid_max ceiling).
    const stale = join(wsDir, `run_gone.tmp-123-${(NOW - 2 * HOUR).toString(36)}`);
    const building = join(wsDir, `run_new.tmp-456-${NOW.toString(36)}`);
    const killed = join(wsDir, `run_killed.tmp-${hostTag()}-4194305-${(NOW - 1000).toString(36)}`);
    mkdirSync(stale);
    mkdirSync(building);
    mkdirSync(killed);
    const store = fakeStore({
      run_old: { checkout: old, status: 'finished', at: new Date(NOW - 73 * HOUR).toISOString() },
      run_recent: { checkout: recent, status: 'finished', at: new Date(NOW - 1 * HOUR).toISOString() },
      run_running: { checkout: running, status: 'running', at: new Date(NOW - 100 * HOUR).toISOString() },
      run_copied: { checkout: copied, status: 'finished', at: new Date(NOW - 100 * HOUR).toISOString() },
      run_archived: {
        checkout: archived,
        status: 'finished',
        at: new Date(NOW - 80 * HOUR).toISOString(),
        archived: true,
      },
      run_archived_recent: {
        checkout: archivedRecent,
        status: 'finished',
        at: new Date(NOW - 2 * HOUR).toISOString(),
        archived: true,
      },
    });
    const removed = await pruneCheckouts({
      store,
      workspaceDir: wsDir,
      retentionMs: 72 * HOUR,
      logger: createLogger({ service: 'prune-test', level: 'silent' }),
      now: () => NOW,
    });
    expect(removed.sort()).toEqual(['run_archived', 'run_old']);
    expect(existsSync(old.path)).toBe(false);
    expect(existsSync(archived.path)).toBe(false);
    expect(git(repo, 'rev-parse', 'nightshift/run_old')).toBe(old.base);
    for (const kept of [recent, running, copied, archivedRecent]) expect(existsSync(kept.path)).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(building)).toBe(true);
  });
});

describe('CheckoutPruner.start: the start-up sweep (issue 21 §4)', () => {
  it('removes a dead maker’s half-built checkout at once and keeps a live one’s and the run checkouts', async () => {
    const wsDir = join(dir, 'startup');
    const t = Date.now().toString(36);
    const dead = join(wsDir, `run_a.tmp-${hostTag()}-4194305-${t}`);
    const mine = join(wsDir, `run_b.tmp-${hostTag()}-${process.pid}-${t}`);
    const checkout = join(wsDir, 'run_c');
    for (const d of [dead, mine, checkout]) mkdirSync(d, { recursive: true });
    const pruner = new CheckoutPruner({
      store: fakeStore({}),
      workspaceDir: wsDir,
      retentionMs: HOUR,
      logger: createLogger({ service: 'prune-test', level: 'silent' }),
    });
    await pruner.start();
    await pruner.stop();
    expect([existsSync(dead), existsSync(mine), existsSync(checkout)]).toEqual([false, true, true]);
  });
});
