import { ConfigError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from './env.js';
import { type Env, loadConfig, workspaceRootsOf } from './load.js';

const cwd = '/nonexistent-nightshift-cwd';
const load = (env: Env) => loadConfig(env, { cwd });

function configError(env: Env): ConfigError {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw ConfigError');
}

describe('environment variables', () => {
  it('coerces numbers and reads every documented mapping', () => {
    const c = load({
      REDIS_URL: 'rediss://default:s3cret@redis.example:6380/2',
      NIGHTSHIFT_PREFIX: '{night}',
      OLLAMA_NUM_PARALLEL: ' 4 ',
      OLLAMA_MAX_QUEUE: '7',
      OLLAMA_KEEP_ALIVE: '1h30m',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
      DIRECTOR_MODEL: 'claude-x',
      ROLE: 'builder',
      LOG_LEVEL: 'debug',
      ROLE_TIMEOUT_BUILDER: '1200',
      ROLE_PRIORITY_SCOUT: 'high',
      ROLE_TOOLS_SCRIBE: 'write_memory, read_file',
      QUEUE_MAX_STALLED_COUNT: '0',
      DASHBOARD_PORT: '0',
      WORKSPACE_DIR: '/srv/ws',
    });
    expect(c.redis.url).toBe('rediss://default:s3cret@redis.example:6380/2');
    expect(c.redis.prefix).toBe('{night}');
    expect(c.ollama.numParallel).toBe(4);
    expect(c.ollama.maxQueue).toBe(7);
    expect(c.ollama.keepAlive).toBe('1h30m');
    expect(c.anthropic.baseUrl).toBe('http://127.0.0.1:9999');
    expect(c.anthropic.model).toBe('claude-x');
    expect(c.role).toBe('builder');
    expect(c.logLevel).toBe('debug');
    expect(c.roles.builder.timeoutSeconds).toBe(1200);
    expect(c.roles.scout).toMatchObject({ priority: 'high', bullmqPriority: 2 });
    expect(c.roles.scribe.tools).toEqual(['write_memory', 'read_file']);
    expect(c.queues.maxStalledCount).toBe(0);
    expect(c.dashboard.port).toBe(0);
    expect(c.workspaceDir).toBe('/srv/ws');
  });

  it('reads the subagent limits and the Scribe summary bound, and names a bad one', () => {
    const c = load({
      SUBAGENT_RUN_TIMEOUT_SECONDS: '600',
      SUBAGENT_ARCHIVE_AFTER_MINUTES: '30',
      SCRIBE_SUMMARY_MAX_TOKENS: '500',
    });
    expect(c.subagents).toMatchObject({ runTimeoutSeconds: 600, archiveAfterMinutes: 30 });
    expect(c.scribe.summaryMaxTokens).toBe(500);
    expect(() => load({ SUBAGENT_RUN_TIMEOUT_SECONDS: 'soon' })).toThrow(/SUBAGENT_RUN_TIMEOUT_SECONDS/);
    expect(() => load({ SCRIBE_SUMMARY_MAX_TOKENS: '10' })).toThrow(/SCRIBE_SUMMARY_MAX_TOKENS/);
  });

  it('reads the retention settings (issue 21), and names a bad one with its expected form', () => {
    expect(load({}).retention).toEqual({
      runMaxAgeHours: 168,
      keepRuns: 0,
      checkSeconds: 60,
      batch: 20,
      memoryDays: 0,
    });
    const c = load({
      RUN_RETENTION_HOURS: '0.5',
      RUN_RETENTION_KEEP: '10',
      RUN_RETENTION_CHECK_SECONDS: '5',
      RUN_RETENTION_BATCH: '3',
      MEMORY_RETENTION_DAYS: '30',
    });
    expect(c.retention).toEqual({
      runMaxAgeHours: 0.5,
      keepRuns: 10,
      checkSeconds: 5,
      batch: 3,
      memoryDays: 30,
    });
    expect(() => load({ RUN_RETENTION_HOURS: '-1' })).toThrow(
      /RUN_RETENTION_HOURS.*a number from 0 to 87600/s,
    );
    expect(() => load({ RUN_RETENTION_KEEP: '2.5' })).toThrow(/RUN_RETENTION_KEEP.*an integer >= 0/s);
    expect(() => load({ RUN_RETENTION_CHECK_SECONDS: '0' })).toThrow(
      /RUN_RETENTION_CHECK_SECONDS.*a positive integer/s,
    );
    expect(() => load({ MEMORY_RETENTION_DAYS: 'soon' })).toThrow(/MEMORY_RETENTION_DAYS/);
  });

  it('reads the planner and ETA settings (issue 24), and names a bad one with its expected form', () => {
    expect(load({}).plan).toEqual({
      historyRuns: 20,
      samples: 200,
      etaSamples: 100,
      loadStretch: 0.08,
      etaCacheMs: 5000,
    });
    const c = load({
      PLAN_HISTORY_RUNS: '5',
      PLAN_SAMPLES: '50',
      ETA_SAMPLES: '20',
      PLAN_LOAD_STRETCH: '0',
      ETA_CACHE_MS: '0',
    });
    expect(c.plan).toEqual({ historyRuns: 5, samples: 50, etaSamples: 20, loadStretch: 0, etaCacheMs: 0 });
    expect(() => load({ ETA_SAMPLES: '0' })).toThrow(/ETA_SAMPLES/);
    expect(() => load({ PLAN_LOAD_STRETCH: '-0.1' })).toThrow(/PLAN_LOAD_STRETCH/);
    expect(() => load({ ETA_CACHE_MS: 'soon' })).toThrow(/ETA_CACHE_MS/);
  });

  it('reads the Sentinel settings, and names a bad one with its expected form', () => {
    const c = load({
      SENTINEL_INTERVAL_MS: '500',
      SENTINEL_LEASE_TTL_MS: '1500',
      SENTINEL_CIRCUIT_FAILURES: '3',
      SENTINEL_CIRCUIT_COOL_DOWN_MS: '10000',
      SENTINEL_CIRCUIT_MAX_COOL_DOWN_MS: '40000',
      SENTINEL_CIRCUIT_TRIAL_TIMEOUT_MS: '60000',
    });
    expect(c.sentinel).toEqual({
      intervalMs: 500,
      leaseTtlMs: 1500,
      circuitFailureThreshold: 3,
      circuitCoolDownMs: 10_000,
      circuitMaxCoolDownMs: 40_000,
      circuitTrialTimeoutMs: 60_000,
    });
    // Independent of the Director's settings now (main.ts used to borrow them).
    expect(load({ DIRECTOR_TICK_MS: '250', DIRECTOR_LEASE_TTL_MS: '1500' }).sentinel).toMatchObject({
      intervalMs: 2000,
      leaseTtlMs: 10_000,
    });
    const error = configError({ SENTINEL_CIRCUIT_FAILURES: '0', SENTINEL_LEASE_TTL_MS: 'soon' });
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      'SENTINEL_CIRCUIT_FAILURES',
      'SENTINEL_LEASE_TTL_MS',
    ]);
    expect(error.message).toContain('SENTINEL_CIRCUIT_FAILURES: expected a positive integer');
    expect(error.message).toContain('SENTINEL_LEASE_TTL_MS: expected an integer >= 500');
    expect(() => load({ SENTINEL_INTERVAL_MS: '50' })).toThrow(/SENTINEL_INTERVAL_MS/);
  });

  it('reads the model mode and the tool settings', () => {
    const c = load({
      NIGHTSHIFT_MODEL: 'instant',
      TOOLS_MAX_ITERATIONS: '3',
      TOOLS_CONTEXT_BUDGET_CHARS: '8000',
      TOOLS_DENY: 'gateway, cron, web_search',
      TOOLS_COMMAND_ALLOWLIST: 'npm test, node --test',
      TOOLS_COMMAND_TIMEOUT_MS: '5000',
      TOOLS_OUTPUT_CAP_BYTES: '1024',
      TOOLS_SANDBOX: 'off',
    });
    expect(c.model.mode).toBe('instant');
    expect(c.tools).toEqual({
      deny: ['gateway', 'cron', 'web_search'],
      maxToolIterations: 3,
      contextBudgetChars: 8000,
      commandAllowlist: ['npm test', 'node --test'],
      commandTimeoutMs: 5000,
      outputCapBytes: 1024,
      sandbox: 'off',
    });
    expect(load({ NIGHTSHIFT_MODEL: 'gateway' }).model.mode).toBe('gateway');
  });

  it('the anthropic timeout follows an overridden director timeout unless set itself', () => {
    expect(load({ ROLE_TIMEOUT_DIRECTOR: '30' }).anthropic.timeoutMs).toBe(30_000);
    expect(load({ ROLE_TIMEOUT_DIRECTOR: '30', ANTHROPIC_TIMEOUT_MS: '5000' }).anthropic.timeoutMs).toBe(
      5000,
    );
  });

  it.each([
    ['127.0.0.1:11434', 'http://127.0.0.1:11434'],
    ['ollama', 'http://ollama:11434'],
    [':9000', 'http://127.0.0.1:9000'],
    ['http://ollama/', 'http://ollama:80'],
    ['https://gpu.example', 'https://gpu.example:443'],
    ['http://127.0.0.1:11434/', 'http://127.0.0.1:11434'],
  ])('OLLAMA_HOST %s is read like Ollama does: %s', (raw, expected) => {
    expect(load({ OLLAMA_HOST: raw }).ollama.host).toBe(expected);
  });

  it('empty variables count as unset', () => {
    expect(load({ OLLAMA_NUM_PARALLEL: '', ANTHROPIC_API_KEY: '  ' }).ollama.numParallel).toBe(2);
    expect(load({ ANTHROPIC_API_KEY: '' }).anthropic.apiKey).toBeUndefined();
  });

  it('documents every variable with a description, and defaults from DEFAULTS', () => {
    const byName = new Map(ENV_VARS.map((v) => [v.name, v]));
    expect(byName.get('OLLAMA_NUM_PARALLEL')?.default).toBe('2');
    expect(byName.get('ROLE_TIMEOUT_BUILDER')?.default).toBe('900');
    expect(byName.get('ANTHROPIC_API_KEY')).toMatchObject({ secret: 'value' });
    expect(byName.get('ANTHROPIC_API_KEY')?.default).toBeUndefined();
    expect(byName.get('REDIS_URL')).toMatchObject({
      secret: 'credentials',
      default: 'redis://127.0.0.1:6379',
    });
    for (const v of ENV_VARS) expect(v.description.length).toBeGreaterThan(5);
    expect(new Set(ENV_VARS.map((v) => v.name)).size).toBe(ENV_VARS.length);
  });
});

describe('multi-host Redis URLs', () => {
  it.each([
    'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
    'redis+sentinel://:pw@h1:26379,h2:26379/mymaster',
  ])('accepts %s', (url) => {
    expect(loadConfig({ REDIS_URL: url }).redis.url).toBe(url);
  });
});

describe('bad configuration', () => {
  it.each([
    ['OLLAMA_NUM_PARALLEL', 'two', 'a positive integer'],
    ['OLLAMA_NUM_PARALLEL', '0', 'a positive integer'],
    ['OLLAMA_MAX_QUEUE', '2.5', 'a positive integer'],
    ['REDIS_URL', 'http://127.0.0.1:6379', 'redis://'],
    ['REDIS_URL', 'redis+cluster://', 'redis+cluster://h:p'],
    ['NIGHTSHIFT_PREFIX', 'night:shift', 'without ":"'],
    ['NIGHTSHIFT_PREFIX', 'night shift', 'spaces'],
    ['NIGHTSHIFT_PREFIX', '{a}{b}', 'hash tag'],
    ['OLLAMA_HOST', 'http://', 'Ollama address'],
    ['OLLAMA_KEEP_ALIVE', 'forever', 'duration'],
    ['ROLE', 'janitor', 'one of director'],
    ['LOG_LEVEL', 'verbose', 'one of fatal'],
    ['ROLE_TIMEOUT_BUILDER', '-5', 'a positive integer'],
    ['ROLE_PRIORITY_SCRIBE', 'urgent', 'one of highest'],
    ['DASHBOARD_PORT', '70000', 'from 0 to 65535'],
    ['OLLAMA_THINK', 'maybe', 'one of false, true'],
    ['OLLAMA_NUM_PREDICT', '9000', 'less than OLLAMA_NUM_CTX'],
    ['DASHBOARD_ALLOWED_HOSTS', 'ok.example,http://x/', 'a host name, host:port'],
    ['ANTHROPIC_BASE_URL', 'ftp://x', 'http'],
    ['ROLE_TIMEOUT_BULDER', '5', 'role suffix'],
    ['NIGHTSHIFT_MODEL', 'ollama', 'gateway, or instant'],
    ['TOOLS_MAX_ITERATIONS', '0', 'a positive integer'],
    ['TOOLS_CONTEXT_BUDGET_CHARS', '100', 'an integer'],
    // Fail closed: anything but on/off is refused, never read as a silently unconfined run.
    ['TOOLS_SANDBOX', 'no', 'on, or off'],
  ])('%s=%s is reported by name', (name, value, expected) => {
    const error = configError({ [name]: value });
    expect(error.problems).toHaveLength(1);
    const [problem] = error.problems;
    expect(problem?.path).toBe(name);
    expect(problem?.expected).toContain(expected);
    expect(error.message).toContain(name);
    expect(error.code).toBe('CONFIG_INVALID');
  });

  it('shows the received value of non-secret variables', () => {
    const error = configError({ OLLAMA_NUM_PARALLEL: 'two' });
    expect(error.problems[0]?.received).toBe('"two"');
    expect(error.message).toContain('OLLAMA_NUM_PARALLEL: expected a positive integer (got "two")');
  });

  it('reports every problem at once', () => {
    const error = configError({
      OLLAMA_NUM_PARALLEL: 'x',
      OLLAMA_MAX_QUEUE: '-1',
      REDIS_URL: 'nope',
      ROLE: 'janitor',
      LOG_LEVEL: 'loud',
      HEARTBEAT_TTL_MS: 'soon',
    });
    expect(error.problems.map((p) => p.path).sort()).toEqual(
      [
        'HEARTBEAT_TTL_MS',
        'LOG_LEVEL',
        'OLLAMA_MAX_QUEUE',
        'OLLAMA_NUM_PARALLEL',
        'REDIS_URL',
        'ROLE',
      ].sort(),
    );
  });

  it('cross-field rules name the setting in question', () => {
    const error = configError({ HEARTBEAT_INTERVAL_MS: '20000' });
    expect(error.problems).toEqual([
      { path: 'heartbeat.ttlMs (default)', expected: 'an integer > heartbeat.intervalMs', received: '15000' },
    ]);
  });
});

describe('secrets are never echoed', () => {
  const key = 'sk-ant-api03-SUPERSECRETVALUE';

  it('a malformed secret is reported as <redacted>', () => {
    const error = configError({
      ANTHROPIC_API_KEY: `${key} trailing`,
      DASHBOARD_TOKEN: 'short',
      ALERT_WEBHOOK_SECRET: 'has space inside',
    });
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      'ALERT_WEBHOOK_SECRET',
      'ANTHROPIC_API_KEY',
      'DASHBOARD_TOKEN',
    ]);
    for (const p of error.problems) expect(p.received).toBe('"<redacted>"');
    const text = `${error.message} ${JSON.stringify(error.toJSON())}`;
    expect(text).not.toContain('SUPERSECRETVALUE');
    expect(text).not.toContain('short');
    expect(text).not.toContain('has space inside');
  });

  it('a Redis password in a bad URL is masked, the rest is kept', () => {
    const error = configError({ REDIS_URL: 'http://admin:hunter2hunter2@cache:6379' });
    expect(error.problems[0]?.received).toBe('"http://admin:<redacted>@cache:6379"');
    expect(error.message).not.toContain('hunter2');
  });

  it('a Redis password containing an unencoded @ is masked entirely', () => {
    const error = configError({ REDIS_URL: 'redis://:p@ss@word@cache:abc' });
    expect(error.message).not.toContain('ss@word');
    expect(error.message).not.toContain('p@ss');
  });

  it('a secret pasted into the wrong variable is scrubbed too', () => {
    const error = configError({ ANTHROPIC_API_KEY: key, LOG_LEVEL: key });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.path).toBe('LOG_LEVEL');
    expect(error.message).not.toContain(key);
  });
});

describe('workspace roots and run branches (issue 18)', () => {
  it('defaults the roots to WORKSPACE_DIR and the folder started in; WORKSPACE_ROOTS replaces both', () => {
    const c = load({ WORKSPACE_DIR: '/srv/ws' });
    expect(c.workspaceRoots).toBeUndefined();
    expect(workspaceRootsOf(c, '/home/me/proj')).toEqual(['/srv/ws', '/home/me/proj']);
    expect(workspaceRootsOf(c)).toEqual(['/srv/ws']);
    const set = load({ WORKSPACE_ROOTS: '/a, rel/b', WORKSPACE_DIR: '/srv/ws' });
    expect(workspaceRootsOf(set, '/home/me/proj')).toEqual(['/a', `${cwd}/rel/b`]);
    expect(c.git).toEqual({
      branchPrefix: 'nightshift/',
      authorName: 'Nightshift',
      authorEmail: 'nightshift@localhost',
      checkoutRetentionHours: 72,
    });
  });

  it('takes a push remote by name, and refuses a URL or a bad branch prefix, naming the variables', () => {
    expect(load({ NIGHTSHIFT_GIT_PUSH_REMOTE: 'backup' }).git.pushRemote).toBe('backup');
    for (const remote of ['ext::sh -c touch% /tmp/x', 'https://example.com/r.git', '-oProxy', '../up']) {
      const error = configError({ NIGHTSHIFT_GIT_PUSH_REMOTE: remote });
      expect(error.message).toContain('NIGHTSHIFT_GIT_PUSH_REMOTE');
      expect(error.message).toContain('the name of a remote');
    }
    const error = configError({ RUN_BRANCH_PREFIX: '../x' });
    expect(error.message).toContain('RUN_BRANCH_PREFIX');
  });
});
