import { describe, expect, it } from 'vitest';
import { createKeys, QUEUE_NAMES } from './keys.js';

describe('createKeys', () => {
  it('builds every key under the prefix', () => {
    const keys = createKeys('nightshift');
    expect(keys.busTo('builder')).toBe('nightshift:bus:to:builder');
    expect(keys.busTo('ALL')).toBe('nightshift:bus:to:ALL');
    expect(keys.busLog).toBe('nightshift:bus:log');
    expect(keys.heartbeat('scout', 'h-1')).toBe('nightshift:heartbeat:scout:h-1');
    expect(keys.lease('director')).toBe('nightshift:lease:director');
    expect(keys.published('msg_1')).toBe('nightshift:published:msg_1');
  });

  it('keeps a {hash tag} prefix intact so every key lands in one Cluster slot', () => {
    const keys = createKeys('{nightshift}');
    expect(keys.prefix).toBe('{nightshift}');
    const all = [
      keys.busTo('builder'),
      keys.busLog,
      keys.runEvents('r1'),
      keys.lease('x'),
      keys.published('m'),
    ];
    for (const key of all) expect(key.startsWith('{nightshift}:')).toBe(true);
    expect(keys.heartbeatPattern()).toBe('{nightshift}:heartbeat:*:*');
  });

  it('defaults to "nightshift" and refuses prefixes that would break keys or hash tags', () => {
    expect(createKeys().prefix).toBe('nightshift');
    for (const bad of ['', 'a:b', '{a}b', '{a', 'a b', '{}', 'a*'])
      expect(() => createKeys(bad)).toThrow(/invalid key prefix/);
  });

  it('names the agent queues agent.<role>', () => {
    expect(QUEUE_NAMES.agent('builder')).toBe('agent.builder');
    expect(QUEUE_NAMES.deadLetter).toBe('dead-letter');
  });
});
