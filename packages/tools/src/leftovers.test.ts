import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  hostTag,
  type LeftoverOwner,
  leftoverVerdict,
  ownerTag,
  parseLeftover,
  procStartTime,
  type SweepSelf,
  sweepLeftovers,
  thisSweeper,
} from './leftovers.js';
import { withTempHome } from './process.js';

const NOW = Date.parse('2026-12-07T22:00:00Z');
const HOUR = 3_600_000;
const self = (over: Partial<SweepSelf> = {}): SweepSelf => ({
  host: 'box',
  pid: 100,
  startedAt: NOW - 60_000,
  isAlive: (pid) => pid === 100 || pid === 200,
  startTimeOf: () => undefined,
  ...over,
});
const made = (over: Partial<LeftoverOwner> = {}): LeftoverOwner => ({
  host: 'box',
  pid: 300,
  createdAt: NOW - 5000,
  ...over,
});

describe('leftover names', () => {
  it('reads the maker of a checkout build and of a command HOME, old forms and strangers apart', () => {
    const t = (NOW - 5000).toString(36);
    expect(parseLeftover('checkout-build', `run_ab.c-1.tmp-my-host-42-${t}`)).toEqual({
      host: 'my-host',
      pid: 42,
      createdAt: NOW - 5000,
    });
    expect(parseLeftover('checkout-build', `run_ab.tmp-42-${t}`)).toEqual({ pid: 42, createdAt: NOW - 5000 });
    expect(parseLeftover('sandbox-home', `nightshift-home-box-7-${t}-Ab3xYz`)).toEqual({
      host: 'box',
      pid: 7,
      createdAt: NOW - 5000,
    });
    for (const name of [
      'run_ab',
      'run_ab.tmp-x',
      'notes.txt',
      'nightshift-home-Ab3xYz',
      `other-home-box-7-${t}-Ab3xYz`,
    ])
      expect([parseLeftover('checkout-build', name), parseLeftover('sandbox-home', name)]).toEqual([
        undefined,
        undefined,
      ]);
  });

  it('a HOME made by withTempHome carries this process as its maker', async () => {
    const seen = await withTempHome(async (home) =>
      parseLeftover('sandbox-home', home.split('/').at(-1) ?? ''),
    );
    expect(seen).toMatchObject({ host: hostTag(), pid: process.pid });
    expect(parseLeftover('checkout-build', `run_x.tmp-${ownerTag()}`)).toMatchObject({ pid: process.pid });
  });
});

describe('leftoverVerdict: pid reuse and other hosts', () => {
  it('removes a dead pid’s leftover; keeps a live pid’s that may be its maker', () => {
    expect(leftoverVerdict(made({ pid: 300 }), self(), NOW, HOUR)).toBe('remove');
    expect(leftoverVerdict(made({ pid: 200 }), self(), NOW, HOUR)).toBe('keep');
  });

  it('a live pid that started after the folder was made is a reused pid: removed', () => {
    const reused = self({ startTimeOf: () => NOW - 1000 });
    expect(leftoverVerdict(made({ pid: 200, createdAt: NOW - 5000 }), reused, NOW, HOUR)).toBe('remove');
    const maker = self({ startTimeOf: () => NOW - 10_000 });
    expect(leftoverVerdict(made({ pid: 200, createdAt: NOW - 5000 }), maker, NOW, HOUR)).toBe('keep');
  });

  it('our own pid: an earlier process’s (restarted container) goes, ours in progress stays', () => {
    expect(leftoverVerdict(made({ pid: 100, createdAt: NOW - 120_000 }), self(), NOW, HOUR)).toBe('remove');
    expect(leftoverVerdict(made({ pid: 100, createdAt: NOW - 1000 }), self(), NOW, HOUR)).toBe('keep');
  });

  it('another host’s (or an old name’s) is judged by age only', () => {
    expect(leftoverVerdict(made({ host: 'other', pid: 300 }), self(), NOW, HOUR)).toBe('keep');
    expect(leftoverVerdict({ pid: 300, createdAt: NOW - 5000 }, self(), NOW, HOUR)).toBe('keep');
    expect(leftoverVerdict(made({ host: 'other', createdAt: NOW - HOUR - 1 }), self(), NOW, HOUR)).toBe(
      'remove',
    );
    expect(leftoverVerdict(made({ pid: 200, createdAt: NOW - HOUR - 1 }), self(), NOW, HOUR)).toBe('remove');
  });
});

describe('sweepLeftovers, in a real temp dir', () => {
  let root: string;
  let dir: string;
  let outside: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ns-leftovers-'));
    dir = join(root, 'workspace');
    outside = join(root, 'outside');
    mkdirSync(dir);
    mkdirSync(outside);
    writeFileSync(join(outside, 'precious.txt'), 'keep me');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const folder = (name: string) => {
    mkdirSync(join(dir, name, '.git'), { recursive: true });
    writeFileSync(join(dir, name, '.git', 'HEAD'), 'ref: x');
    return name;
  };

  it('removes a dead pid’s build, keeps a live pid’s, a run’s checkout and a stranger; never follows a link', async () => {
    const t = (NOW - 5000).toString(36);
    const dead = folder(`run_a.tmp-box-300-${t}`);
    const live = folder(`run_b.tmp-box-200-${t}`);
    const checkout = folder('run_c');
    const stranger = folder('notes');
    // A link named like a dead pid's leftover, pointing outside: kept, and its target untouched.
    const link = `run_d.tmp-box-301-${t}`;
    symlinkSync(outside, join(dir, link));
    // A dead pid's build holding a link to outside: the build goes, what the link points at stays.
    const withLink = folder(`run_e.tmp-box-302-${t}`);
    symlinkSync(outside, join(dir, withLink, 'escape'));

    const result = await sweepLeftovers({ dir, kind: 'checkout-build', now: NOW, self: self() });
    expect(result.removed.sort()).toEqual([dead, withLink].sort());
    expect(result.kept.sort()).toEqual([link, live].sort());
    expect(readdirSync(dir).sort()).toEqual([checkout, link, live, stranger].sort());
    expect(readdirSync(outside)).toEqual(['precious.txt']);
  });

  it('sweeps HOMEs of dead makers only, and a missing folder is nothing to sweep', async () => {
    const t = (NOW - 5000).toString(36);
    const dead = folder(`nightshift-home-box-300-${t}-Ab3xYz`);
    const live = folder(`nightshift-home-box-200-${t}-Qw9rTy`);
    const old = folder('nightshift-home-Zx8cVb'); // the form before issue 21: no maker, kept
    const result = await sweepLeftovers({ dir, kind: 'sandbox-home', now: NOW, self: self() });
    expect(result).toEqual({ removed: [dead], kept: [live] });
    expect(readdirSync(dir).sort()).toEqual([live, old].sort());
    expect(await sweepLeftovers({ dir: join(root, 'absent'), kind: 'sandbox-home' })).toEqual({
      removed: [],
      kept: [],
    });
  });

  it('with the real process table: a child killed with SIGKILL leaves a build that the sweep removes', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const name = folder(`run_k.tmp-${hostTag()}-${pid}-${Date.now().toString(36)}`);
    expect((await sweepLeftovers({ dir, kind: 'checkout-build' })).kept).toEqual([name]);
    child.kill('SIGKILL');
    await exited;
    expect((await sweepLeftovers({ dir, kind: 'checkout-build' })).removed).toEqual([name]);
    expect(existsSync(join(dir, name))).toBe(false);
  });

  it('reads a process start time from /proc where there is one', () => {
    if (!existsSync('/proc/self/stat')) return;
    const started = procStartTime(process.pid);
    expect(started).toBeDefined();
    expect(Math.abs((started ?? 0) - thisSweeper().startedAt)).toBeLessThan(5000);
  });
});
