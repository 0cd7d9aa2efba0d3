import { describe, expect, it } from 'vitest';
import { createRedis, parseRedisUrl, redactRedisUrl, redisOptionsFromUrl } from './connection.js';

describe('parseRedisUrl', () => {
  it('reads host, port, db, user and password of a plain URL', () => {
    expect(parseRedisUrl('redis://user:p%40ss@example.com:6380/2')).toEqual({
      mode: 'standalone',
      tls: false,
      username: 'user',
      password: 'p@ss',
      hosts: [{ host: 'example.com', port: 6380 }],
      db: 2,
    });
    expect(parseRedisUrl('rediss://:secret@[::1]')).toMatchObject({
      tls: true,
      password: 'secret',
      hosts: [{ host: '::1', port: 6379 }],
    });
  });

  it('reads a cluster seed list, and a plain URL with cluster: true', () => {
    expect(parseRedisUrl('redis+cluster://a:7000,b:7001,c')).toMatchObject({
      mode: 'cluster',
      hosts: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
        { host: 'c', port: 6379 },
      ],
    });
    expect(parseRedisUrl('redis://a:7000', { cluster: true }).mode).toBe('cluster');
    expect(() => parseRedisUrl('redis+cluster://a:7000/3')).toThrow(/only database 0/);
  });

  it('reads a sentinel list with the master name and db', () => {
    const parsed = parseRedisUrl('rediss+sentinel://:pw@s1,s2:26380/mymaster/1?sentinelPassword=sp');
    expect(parsed).toMatchObject({
      mode: 'sentinel',
      tls: true,
      password: 'pw',
      sentinelName: 'mymaster',
      sentinelPassword: 'sp',
      db: 1,
      hosts: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
    });
    const options = redisOptionsFromUrl('redis+sentinel://s1/mymaster');
    expect(options.sentinels).toEqual([{ host: 's1', port: 26379 }]);
    expect(options.name).toBe('mymaster');
    expect(() => parseRedisUrl('redis+sentinel://s1')).toThrow(/master name/);
  });

  it('refuses other schemes and several hosts in a plain URL, without echoing the password', () => {
    expect(() => parseRedisUrl('http://x')).toThrow(/unsupported Redis URL/);
    expect(() => parseRedisUrl('redis://a,b')).toThrow(/redis\+cluster/);
    expect(() => parseRedisUrl('redis://a/x')).toThrow(/must be a number/);
    let error: unknown;
    try {
      parseRedisUrl('memcached://user:topsecret@x');
    } catch (caught) {
      error = caught;
    }
    expect(String(error)).toMatch(/unsupported Redis URL/);
    expect(String(error)).not.toContain('topsecret');
  });
});

describe('createRedis', () => {
  it('refuses a cluster URL (that needs createRedisClient)', () => {
    expect(() => createRedis('redis+cluster://127.0.0.1:7000', { lazyConnect: true })).toThrow(
      /createRedisClient/,
    );
  });
});

describe('redactRedisUrl', () => {
  it('hides passwords in every URL form', () => {
    expect(redactRedisUrl('redis://user:secret@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redactRedisUrl('rediss://:secret@host')).toBe('rediss://:***@host');
    expect(redactRedisUrl('redis+cluster://:secret@a:1,b:2')).toBe('redis+cluster://:***@a:1,b:2');
    expect(redactRedisUrl('redis+sentinel://s/m?sentinelPassword=secret')).not.toContain('secret');
    expect(redactRedisUrl('redis://host:6379')).toBe('redis://host:6379');
  });
});
