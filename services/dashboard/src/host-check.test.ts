// The DNS-rebinding guard's policy: which Host and Origin values name the dashboard.
import { describe, expect, it } from 'vitest';
import { hostPolicy, splitHost } from './host-check.js';

describe('splitHost', () => {
  it('splits names, IPv4, bracketed IPv6 and ports, and refuses junk', () => {
    expect(splitHost('LocalHost:8080')).toEqual({ name: 'localhost', port: '8080' });
    expect(splitHost('[::1]:8080')).toEqual({ name: '::1', port: '8080' });
    expect(splitHost('example.org.')).toEqual({ name: 'example.org' });
    expect(splitHost('')).toBeUndefined();
    expect(splitHost('a b:80')).toBeUndefined();
    expect(splitHost('evil.example:80:80')).toEqual({ name: 'evil.example:80:80' }); // never matches a name
    expect(splitHost('x:port')).toBeUndefined();
  });
});

describe('hostPolicy on a loopback bind', () => {
  const policy = hostPolicy({ bindHost: '127.0.0.1' });

  it('accepts loopback names and addresses on any port', () => {
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:9000', 'localhost', 'LOCALHOST:80']) {
      expect(policy.acceptsHost(host), host).toBe(true);
    }
  });

  it('refuses a rebound name, a missing Host and other addresses', () => {
    for (const host of ['attacker.example:8080', 'localhost.attacker.example:8080', '127.0.0.2:8080', '']) {
      expect(policy.acceptsHost(host), host).toBe(false);
    }
    expect(policy.acceptsHost(undefined)).toBe(false);
  });

  it('accepts our own origins and refuses foreign, opaque and non-web ones', () => {
    expect(policy.acceptsOrigin('http://localhost:8080')).toBe(true);
    expect(policy.acceptsOrigin('http://127.0.0.1:8080/runs/x')).toBe(true);
    for (const origin of ['http://attacker.example:8080', 'null', 'file:///tmp/x.html', 'not a url']) {
      expect(policy.acceptsOrigin(origin), origin).toBe(false);
    }
  });
});

describe('hostPolicy with a token on all addresses, behind a proxy', () => {
  const policy = hostPolicy({
    bindHost: '0.0.0.0',
    allowedHosts: ['night.example.org', 'proxy.internal:8443'],
    interfaceAddresses: ['127.0.0.1', '10.1.2.3', 'fe80::1'],
  });

  it("accepts this machine's addresses and the configured names", () => {
    expect(policy.acceptsHost('10.1.2.3:8080')).toBe(true);
    expect(policy.acceptsHost('[fe80::1]:8080')).toBe(true);
    expect(policy.acceptsHost('night.example.org')).toBe(true);
    expect(policy.acceptsHost('proxy.internal:8443')).toBe(true);
    expect(policy.acceptsOrigin('https://night.example.org')).toBe(true);
    expect(policy.acceptsOrigin('https://proxy.internal:8443')).toBe(true);
  });

  it('holds a configured port to that port, defaults included', () => {
    expect(policy.acceptsHost('proxy.internal:9000')).toBe(false);
    expect(policy.acceptsHost('proxy.internal')).toBe(false);
    expect(policy.acceptsOrigin('https://proxy.internal')).toBe(false);
    expect(policy.acceptsHost('10.9.9.9:8080')).toBe(false);
    expect(policy.names).toEqual(expect.arrayContaining(['localhost', '10.1.2.3', 'proxy.internal:8443']));
  });

  it('accepts anything only when told to with *', () => {
    const open = hostPolicy({ bindHost: '127.0.0.1', allowedHosts: ['*'] });
    expect(open.acceptsHost('whatever.example:1')).toBe(true);
    expect(open.acceptsOrigin('http://whatever.example')).toBe(true);
  });
});
