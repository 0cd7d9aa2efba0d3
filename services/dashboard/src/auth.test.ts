import { describe, expect, it } from 'vitest';
import { assertBindAllowed, isLoopback, safeEqual, safeNext, sessionValue } from './auth.js';
import { esc } from './views/html.js';

describe('bind rule', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.4', 'dashboard.example', '10.0.0.1']) {
      expect(isLoopback(host)).toBe(false);
    }
  });

  it('refuses a reachable bind without a token, naming the variable', () => {
    expect(() => assertBindAllowed('0.0.0.0', undefined)).toThrow(/DASHBOARD_TOKEN/);
    expect(() => assertBindAllowed('0.0.0.0', '')).toThrow(/DASHBOARD_TOKEN/);
    expect(() => assertBindAllowed('0.0.0.0', 'a-long-enough-token')).not.toThrow();
    expect(() => assertBindAllowed('127.0.0.1', undefined)).not.toThrow();
  });
});

describe('tokens and redirects', () => {
  it('compares tokens of any length without throwing', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });

  it('derives the session cookie from the token without containing it', () => {
    const token = 'secret-token-0123456789';
    expect(sessionValue(token)).not.toContain(token);
    expect(sessionValue(token)).toBe(sessionValue(token));
    expect(sessionValue(token)).not.toBe(sessionValue(`${token}x`));
  });

  it('redirects after login only to our own paths', () => {
    expect(safeNext('/runs/run_a')).toBe('/runs/run_a');
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext(undefined)).toBe('/');
  });
});

describe('escaping', () => {
  it('escapes every character that could open markup or an attribute', () => {
    expect(esc(`<script>alert("x")</script>&'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;',
    );
    expect(esc(undefined)).toBe('');
  });
});
