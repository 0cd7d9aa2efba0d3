import { describe, expect, it } from 'vitest';
import { describeConfig } from './describe.js';
import { loadConfig } from './load.js';
import { maskUrlCredentials } from './secrets.js';

const cwd = '/nonexistent-nightshift-cwd';

describe('describeConfig', () => {
  const env = {
    ANTHROPIC_API_KEY: 'sk-ant-api03-TOPSECRETKEY',
    REDIS_URL: 'redis://default:redis-pa55word@127.0.0.1:6379/0',
    DASHBOARD_TOKEN: 'dashboard-token-0123456789',
    ALERT_WEBHOOK_URL: 'https://hooks.example.com/services/T000/B000/XXXXSECRETPATH?sig=abc123',
    ALERT_WEBHOOK_SECRET: 'webhook-hmac-secret',
    OLLAMA_HOST: 'http://ollamauser:ollama-pass@127.0.0.1:11434',
  };
  const config = loadConfig(env, { cwd });
  const described = describeConfig(config);
  const text = JSON.stringify(described);

  it('keeps the real values in the config itself', () => {
    expect(config.anthropic.apiKey).toBe(env.ANTHROPIC_API_KEY);
    expect(config.redis.url).toBe(env.REDIS_URL);
  });

  it('never contains a secret', () => {
    for (const secret of [
      'TOPSECRETKEY',
      'redis-pa55word',
      'dashboard-token',
      'XXXXSECRETPATH',
      'abc123',
      'webhook-hmac',
      'ollama-pass',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('keeps what is useful to read: hosts, users and the shape', () => {
    expect(described.redis).toMatchObject({
      url: 'redis://default:<redacted>@127.0.0.1:6379/0',
      prefix: 'nightshift',
    });
    expect(described.anthropic).toMatchObject({ apiKey: '<redacted>', model: 'claude-sonnet-4-6' });
    expect(described.alerts).toMatchObject({ webhookUrl: 'https://hooks.example.com/<redacted>' });
    expect(described.ollama).toMatchObject({ host: 'http://ollamauser:<redacted>@127.0.0.1:11434' });
  });

  it('is JSON-safe, unfrozen, and omits unset optional keys', () => {
    expect(JSON.parse(text)).toEqual(described);
    expect(Object.isFrozen(described)).toBe(false);
    const plain = describeConfig(loadConfig({}, { cwd }));
    expect(plain.anthropic).not.toHaveProperty('apiKey');
  });
});

describe('maskUrlCredentials', () => {
  it.each([
    ['redis://user:pw@host:6379', 'redis://user:<redacted>@host:6379'],
    ['redis://:pw@host', 'redis://:<redacted>@host'],
    ['rediss://tokenonly@host', 'rediss://<redacted>@host'],
    ['connect redis://:p@ss@host failed', 'connect redis://:<redacted>@host failed'],
    ['redis://host:6379', 'redis://host:6379'],
  ])('%s → %s', (input, output) => {
    expect(maskUrlCredentials(input)).toBe(output);
  });
});
