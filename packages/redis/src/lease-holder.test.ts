// When a successor may take a lease at once instead of waiting out its TTL.
import { describe, expect, it } from 'vitest';
import { holderKnownDead, type LocalProcess } from './lease-holder.js';

const self = (alive: number[]): LocalProcess => ({
  hostname: 'box-1',
  pid: 4242,
  isAlive: (pid) => alive.includes(pid),
});

describe('holderKnownDead', () => {
  it('is true for a holder on this host whose pid is gone', () => {
    expect(holderKnownDead('box-1-1234-ab12cd', self([]))).toBe(true);
  });

  it('is true for our own pid on this host: a restarted container before us', () => {
    expect(holderKnownDead('box-1-4242-zz99yy', self([4242]))).toBe(true);
  });

  it('is false for our own pid when this process made the token: two leased services in one process', () => {
    const shared: LocalProcess = { ...self([4242]), owns: (t) => t === 'box-1-4242-mine00' };
    expect(holderKnownDead('box-1-4242-mine00', shared)).toBe(false);
    expect(holderKnownDead('box-1-4242-older0', shared)).toBe(true);
  });

  it('is false for a live process on this host, for another host, and for tokens it cannot read', () => {
    expect(holderKnownDead('box-1-1234-ab12cd', self([1234]))).toBe(false);
    expect(holderKnownDead('box-2-1234-ab12cd', self([]))).toBe(false);
    expect(holderKnownDead('a', self([]))).toBe(false);
    expect(holderKnownDead('box-1-notapid-x', self([]))).toBe(false);
  });

  it('reads host names that contain dashes', () => {
    const dashed: LocalProcess = { hostname: 'ns-director-7f9c', pid: 1, isAlive: () => false };
    expect(holderKnownDead('ns-director-7f9c-77-q1w2e3', dashed)).toBe(true);
    expect(holderKnownDead('ns-director-7f9-77-q1w2e3', dashed)).toBe(false);
  });
});
