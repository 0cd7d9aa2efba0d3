// The program in-process with a recording fake bus: option handling and exit codes, no Redis.
import type { Message } from '@nightshift/protocol';
import type { Bus, LogEntry, PublishResult } from '@nightshift/redis';
import { describe, expect, it } from 'vitest';
import type { CliDeps } from './deps.js';
import { runCli } from './program.js';

function harness(log: LogEntry[] = []) {
  const published: Message[] = [];
  let closed = 0;
  const out: string[] = [];
  const err: string[] = [];
  const bus = {
    async publish(message: unknown): Promise<PublishResult> {
      published.push(message as Message);
      return { logId: '1-0', jobId: (message as Message).id };
    },
    async readLog(options: { reverse?: boolean; count?: number } = {}) {
      const entries = options.reverse ? [...log].reverse() : log;
      return entries.slice(0, options.count ?? 100);
    },
    async close() {
      closed++;
    },
  } as unknown as Bus;
  const deps: CliDeps = {
    openBus: () => bus,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    signal: new AbortController().signal,
    now: () => new Date('2026-01-28T03:45:00.000Z'),
    readStdin: async () => 'from stdin',
  };
  const run = (...args: string[]) => runCli(['node', 'nightshift', ...args], deps);
  return { run, published, out, err, closed: () => closed };
}

describe('nightshift send', () => {
  it('publishes a well-formed message with defaults and prints its id', async () => {
    const h = harness();
    expect(await h.run('send', '--to', 'builder', '--type', 'REQUEST', 'fix', 'the', 'bug')).toBe(0);
    const m = h.published[0];
    expect(m).toMatchObject({
      from: 'system',
      to: 'builder',
      type: 'REQUEST',
      priority: 'NORMAL',
      content: 'fix the bug',
      timestamp: '2026-01-28T03:45:00.000Z',
    });
    expect(m?.id).toMatch(/^msg_/);
    expect(m?.runId).toMatch(/^run_/);
    expect(h.out.join('')).toBe(`${m?.id}\n`);
    expect(h.closed()).toBe(1);
  });

  it('passes every option through, reads "-" from stdin, and prints JSON with --json', async () => {
    const h = harness();
    const code = await h.run(
      'send',
      '--to',
      'scout',
      '--type',
      'REQUEST',
      '--from',
      'human',
      '--priority',
      'HIGH',
      '--run',
      'run_42',
      '--context',
      'ctx',
      '--expected',
      'a list',
      '--phase',
      '2',
      '--json',
      '-',
    );
    expect(code).toBe(0);
    expect(h.published[0]).toMatchObject({
      from: 'human',
      priority: 'HIGH',
      runId: 'run_42',
      context: 'ctx',
      expectedResponse: 'a list',
      phase: 2,
      content: 'from stdin',
    });
    expect(JSON.parse(h.out.join(''))).toMatchObject({
      runId: 'run_42',
      logId: '1-0',
      jobId: h.published[0]?.id,
    });
  });

  it.each([
    [
      ['--to', 'builder', '--type', 'GOSSIP', 'x'],
      /'--type <type>'.*GOSSIP.*STATUS, REQUEST, RESPONSE, DECISION, ALERT/,
    ],
    [['--to', 'janitor', '--type', 'REQUEST', 'x'], /'--to <recipient>'.*Allowed choices are director/],
    [
      ['--to', 'builder', '--type', 'REQUEST', '--priority', 'URGENT', 'x'],
      /'--priority <priority>'.*LOW, NORMAL/,
    ],
    [['--type', 'REQUEST', 'x'], /required option '--to <recipient>'/],
    [['--to', 'builder', 'x'], /required option '--type <type>'/],
    [['--to', 'builder', '--type', 'REQUEST'], /missing required argument 'content'/],
    [['--to', 'builder', '--type', 'REQUEST', '--run', '123', 'x'], /'--run <id>'.*not all digits/],
    [['--to', 'builder', '--type', 'REQUEST', '--bogus', 'x'], /unknown option '--bogus'/],
  ])('refuses %j with exit code 2 and a message naming the option', async (args, pattern) => {
    const h = harness();
    expect(await h.run('send', ...args)).toBe(2);
    expect(h.err.join('')).toMatch(pattern);
    expect(h.published).toEqual([]);
  });

  it('names the content when it is too long, before touching the bus', async () => {
    const h = harness();
    expect(await h.run('send', '--to', 'builder', '--type', 'REQUEST', 'x'.repeat(300_000))).toBe(2);
    expect(h.err.join('')).toMatch(/<content>: /);
    expect(h.closed()).toBe(0);
  });
});

describe('nightshift logs', () => {
  const message: Message = {
    id: 'msg_1',
    runId: 'run_1',
    from: 'builder',
    to: 'ALL',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: '2026-01-28T03:45:00Z',
    content: 'Completed auth module implementation.',
  };
  const log: LogEntry[] = [
    { id: '1-0', message, raw: { message: JSON.stringify(message) } },
    { id: '2-0', raw: { junk: 'x' }, error: 'entry has no "message" field (fields: junk)' },
  ];

  it('renders entries in the guide form between rule lines, and shows unreadable ones as such', async () => {
    const h = harness(log);
    expect(await h.run('logs')).toBe(0);
    const text = h.out.join('');
    expect(text).toContain('── 1-0 ─');
    expect(text).toContain('FROM: Builder\nTO: ALL\nTYPE: STATUS\nPRIORITY: NORMAL');
    expect(text).toContain('### Content\nCompleted auth module implementation.');
    expect(text).toContain('[unreadable entry: entry has no "message" field (fields: junk)]');
  });

  it('prints one JSON object per line with --json and applies filters', async () => {
    const h = harness(log);
    expect(await h.run('logs', '--json')).toBe(0);
    const lines = h.out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { logId: '1-0', message },
      { logId: '2-0', error: log[1]?.error, raw: { junk: 'x' } },
    ]);
    const filtered = harness(log);
    expect(await filtered.run('logs', '--json', '--from', 'scout')).toBe(0);
    expect(filtered.out.join('')).toBe('');
  });

  it('refuses a bad --type or --since with exit code 2', async () => {
    const h = harness(log);
    expect(await h.run('logs', '--type', 'nope')).toBe(2);
    expect(h.err.join('')).toMatch(/'--type <type>'/);
    expect(await h.run('logs', '--since', 'yesterday')).toBe(2);
    expect(h.err.join('')).toMatch(/'--since <id>'/);
  });
});
