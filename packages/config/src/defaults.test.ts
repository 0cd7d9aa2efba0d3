import { describe, expect, it } from 'vitest';
import { DEFAULTS } from './defaults.js';
import { loadConfig } from './load.js';

const cwd = '/nonexistent-nightshift-cwd'; // no config file can be found there

describe('defaults are the guide numbers', () => {
  const c = loadConfig({}, { cwd });

  it('redis', () => {
    expect(c.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      prefix: 'nightshift',
      streamMaxLen: 100_000,
      maxDeliveries: 5,
      claimIdleMs: 10_000,
    });
  });

  it('ollama (guide §1: parallel 2, queue 100, keep-alive 60m)', () => {
    expect(c.ollama).toEqual({
      host: 'http://127.0.0.1:11434',
      model: 'qwen3:32b',
      numParallel: 2,
      maxQueue: 100,
      keepAlive: '60m',
      // Not guide numbers: the window arithmetic of docs/operations.md (issue 20).
      numCtx: 8192,
      numPredict: 2048,
      think: 'false',
      thinkingTraceChars: 0,
    });
  });

  it('anthropic: no key, Sonnet, 2 retries, timeout = director timeout', () => {
    expect(c.anthropic).toEqual({ model: 'claude-sonnet-4-6', maxRetries: 2, timeoutMs: 120_000 });
    expect(c.role).toBeUndefined();
    expect(c.logLevel).toBe('info');
    expect(c.workspaceDir).toBe(`${cwd}/.nightshift/workspaces`);
    expect(c.memoryDir).toBe(`${cwd}/.nightshift/memory`);
  });

  it('guide §7 role table: timeouts, priorities, bullmq priorities, tools', () => {
    const timeouts = Object.fromEntries(Object.entries(c.roles).map(([r, s]) => [r, s.timeoutSeconds]));
    expect(timeouts).toEqual({
      director: 120,
      architect: 180,
      scout: 300,
      builder: 900,
      refactorer: 600,
      inspector: 600,
      scribe: 60,
    });
    const priorities = Object.fromEntries(
      Object.entries(c.roles).map(([r, s]) => [r, [s.priority, s.bullmqPriority]]),
    );
    expect(priorities).toEqual({
      director: ['highest', 1],
      architect: ['high', 2],
      scout: ['normal', 3],
      builder: ['normal', 3],
      refactorer: ['normal', 3],
      inspector: ['normal', 3],
      scribe: ['low', 4],
    });
    for (const settings of Object.values(c.roles)) expect(settings.bullmqPriority).toBeGreaterThan(0);
    expect(c.roles.director.tools).toEqual(['coordination']);
    expect(c.roles.architect.tools).toEqual(['read_file', 'list_files', 'search_files']);
    expect(c.roles.scout.tools).toEqual(['read_file', 'list_files', 'search_files', 'web_search']);
    expect(c.roles.builder.tools).toEqual([
      'read_file',
      'write_file',
      'edit_file',
      'list_files',
      'search_files',
      'run_command',
      'git',
      'ask_scout',
    ]);
    expect(c.roles.refactorer.tools).toEqual([
      'read_file',
      'write_file',
      'edit_file',
      'list_files',
      'search_files',
      'ask_scout',
    ]);
    expect(c.roles.inspector.tools).toEqual([
      'read_file',
      'list_files',
      'search_files',
      'run_command',
      'ask_scout',
    ]);
    expect(c.roles.scribe.tools).toEqual(['write_memory']);
  });

  it('subagents, tools, trust, debate, workflow', () => {
    expect(c.subagents).toEqual({ maxConcurrent: 2, archiveAfterMinutes: 120, runTimeoutSeconds: 900 });
    expect(c.scribe).toEqual({ summaryMaxTokens: 2000, summaryMaxFolds: 2 });
    expect(c.tools).toEqual({
      deny: ['gateway', 'cron'],
      maxToolIterations: 20,
      commandAllowlist: ['npm test', 'node --test', 'npx vitest run'],
      commandTimeoutMs: 120_000,
      outputCapBytes: 65_536,
      contextBudgetChars: 24_000,
      sandbox: 'on',
    });
    // The agents' model goes through the llm-gateway unless a test asks for the simulated one.
    expect(c.model).toEqual({ mode: 'gateway' });
    expect(c.trust).toEqual({ min: 1, max: 10, start: 7, emergencyBelow: 3 });
    expect(c.debate).toEqual({ maxRounds: 3, supermajority: { agree: 5, of: 7 }, weightedThreshold: 0.7 });
    expect(c.workflow).toEqual({
      maxIterations: 5,
      phaseExpectedSeconds: { 1: 600, 2: 1800, 3: 900, 4: 300 },
    });
  });

  it('detection and escalation (guide §3, §4)', () => {
    expect(c.detection).toEqual({
      stuckCalls: 3,
      sameErrorRepeats: 3,
      memoryPercent: 90,
      queueDepth: 50,
      backgroundQueueDepth: 200,
      llmLatencySeconds: 300,
      promptCuts: 0,
      criticalBugs: 5,
      maxTaskAttempts: 5,
      phaseOverrunFactor: 2,
      agentStuckMinutes: 10,
      escalateAfterAttempts: 2,
    });
    expect(c.escalation.levels.map((l) => [l.level, l.name])).toEqual([
      [0, 'normal'],
      [1, 'agent'],
      [2, 'coordination'],
      [3, 'system'],
      [4, 'abort'],
    ]);
  });

  it('queues, heartbeat, dashboard, alerts', () => {
    expect(c.queues).toEqual({
      lockDurationMs: 10_000,
      stalledIntervalMs: 5_000,
      maxStalledCount: 3,
      rateLimitDelayMs: 1_000,
    });
    expect(c.heartbeat).toEqual({ intervalMs: 5000, ttlMs: 15_000 });
    expect(c.dashboard).toEqual({ host: '127.0.0.1', port: 8080, allowedHosts: [] });
    expect(c.alerts).toEqual({ minLevel: 3 });
  });

  it('sentinel: what its main.ts hard-coded (2 × the Director tick, its lease TTL, the circuit defaults)', () => {
    expect(c.sentinel).toEqual({
      intervalMs: 2 * c.director.tickMs,
      leaseTtlMs: c.director.leaseTtlMs,
      circuitFailureThreshold: 5,
      circuitCoolDownMs: 5_000,
      circuitMaxCoolDownMs: 10_000,
      circuitTrialTimeoutMs: 1_200_000,
    });
    // A trial must outlast the longest task, or a second job would start beside a slow trial.
    const longest = Math.max(...Object.values(c.roles).map((r) => r.timeoutSeconds));
    expect(c.sentinel.circuitTrialTimeoutMs).toBeGreaterThan(longest * 1000);
  });

  it('DEFAULTS matches an empty load apart from the resolved directories', () => {
    expect({ ...c, workspaceDir: DEFAULTS.workspaceDir, memoryDir: DEFAULTS.memoryDir }).toEqual(DEFAULTS);
  });
});

describe('frozen', () => {
  it('a loaded config cannot be mutated at any depth', () => {
    const c = loadConfig({}, { cwd });
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      c.ollama.numParallel = 99;
    }).toThrow(TypeError);
    expect(() => {
      c.roles.builder.tools.push('rm_rf');
    }).toThrow(TypeError);
    expect(() => {
      c.workflow.phaseExpectedSeconds[2] = 1;
    }).toThrow(TypeError);
    expect(c.ollama.numParallel).toBe(2);
  });

  it('DEFAULTS is frozen and loads do not share mutable state with it', () => {
    expect(Object.isFrozen(DEFAULTS.roles.scout.tools)).toBe(true);
    const a = loadConfig({ ROLE_TOOLS_SCOUT: 'read_file' }, { cwd });
    expect(a.roles.scout.tools).toEqual(['read_file']);
    expect(DEFAULTS.roles.scout.tools).toContain('web_search');
  });
});
