import { NightshiftError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { closeInOrder, defineService, type Service, serviceGroup } from './service.js';

/** A part that records start/stop into a shared journal. */
function recorder(journal: string[], name: string, failStart = false): Service {
  return defineService({
    name,
    start: async () => {
      journal.push(`start ${name}`);
      if (failStart) throw new Error(`${name} cannot start`);
    },
    stop: async () => {
      journal.push(`stop ${name}`);
    },
  });
}

describe('defineService', () => {
  it('start and stop are idempotent and return the same promise', async () => {
    const journal: string[] = [];
    const service = recorder(journal, 'a');
    const first = service.start();
    expect(service.start()).toBe(first);
    await first;
    await service.start();
    const stop = service.stop();
    expect(service.stop()).toBe(stop);
    await stop;
    await service.stop();
    expect(journal).toEqual(['start a', 'stop a']);
  });

  it('stop during start waits for start, then stops', async () => {
    const journal: string[] = [];
    let release: () => void = () => undefined;
    const service = defineService({
      name: 'slow',
      start: () =>
        new Promise<void>((resolve) => {
          release = () => {
            journal.push('started');
            resolve();
          };
        }),
      stop: () => {
        journal.push('stopped');
      },
    });
    void service.start();
    const stopping = service.stop();
    await Promise.resolve();
    expect(journal).toEqual([]);
    release();
    await stopping;
    expect(journal).toEqual(['started', 'stopped']);
  });

  it('stop without start is a no-op, and a stopped service refuses to start', async () => {
    const journal: string[] = [];
    const service = recorder(journal, 'a');
    await service.stop();
    await expect(service.start()).rejects.toThrow(NightshiftError);
    expect(journal).toEqual([]);
  });
});

describe('closeInOrder', () => {
  it('closes in reverse start order: workers → consumers → redis', async () => {
    const closed: string[] = [];
    await closeInOrder([
      { name: 'redis', close: async () => void closed.push('redis') },
      { name: 'consumers', stop: async () => void closed.push('consumers') },
      { name: 'workers', close: () => void closed.push('workers') },
    ]);
    expect(closed).toEqual(['workers', 'consumers', 'redis']);
  });

  it('closes everything even when one fails, then reports the failures', async () => {
    const closed: string[] = [];
    const result = closeInOrder([
      { name: 'redis', close: async () => void closed.push('redis') },
      {
        name: 'bus',
        close: async () => {
          throw new Error('boom');
        },
      },
      { name: 'worker', close: async () => void closed.push('worker') },
    ]);
    await expect(result).rejects.toMatchObject({ code: 'CLOSE_FAILED', details: { components: ['bus'] } });
    expect(closed).toEqual(['worker', 'redis']);
  });
});

describe('serviceGroup', () => {
  it('starts in order and stops in reverse', async () => {
    const journal: string[] = [];
    const group = serviceGroup(
      'svc',
      ['redis', 'bus', 'worker'].map((n) => recorder(journal, n)),
    );
    await group.start();
    await group.stop();
    expect(journal).toEqual([
      'start redis',
      'start bus',
      'start worker',
      'stop worker',
      'stop bus',
      'stop redis',
    ]);
  });

  it('a failed part closes itself and the parts before it, and the error propagates', async () => {
    const journal: string[] = [];
    const group = serviceGroup('svc', [
      recorder(journal, 'redis'),
      recorder(journal, 'bus', true),
      recorder(journal, 'worker'),
    ]);
    await expect(group.start()).rejects.toThrow('bus cannot start');
    expect(journal).toEqual(['start redis', 'start bus', 'stop bus', 'stop redis']);
  });
});
