import { describe, expect, it } from 'vitest';
import { InboxAwaiter, parseVote } from './debate.js';
import { requestId, usageFromContext } from './driver.js';
import { parseFindings } from './outputs.js';
import { requestContext } from './prompts.js';
import { parseVerdict, safeDefault } from './verdict.js';

const reply = (content: string, inReplyTo = 'vote_x') =>
  ({
    id: 'rsp_1',
    runId: 'run_1',
    from: 'builder',
    to: 'director',
    type: 'RESPONSE',
    priority: 'NORMAL',
    timestamp: '2026-01-01T00:00:00Z',
    content,
    inReplyTo,
  }) as const;

describe('verdict parsing', () => {
  it('takes the last valid JSON verdict, fenced or bare, case-insensitive', () => {
    const text = 'Thinking {"draft": 1}\n```json\n{"decision": "REVISE", "rationale": "fix MD5"}\n```';
    expect(parseVerdict(text)).toEqual({ ok: true, verdict: { decision: 'revise', rationale: 'fix MD5' } });
  });
  it('names what is wrong with an unusable reply', () => {
    expect(parseVerdict('no json here')).toEqual({
      ok: false,
      error: 'no JSON object {"decision": …, "rationale": …} in the reply',
    });
    const bad = parseVerdict('{"decision": "maybe", "rationale": "x"}');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/decision/);
  });
  it('falls back to escalate with critical findings open, else force-proceeds', () => {
    expect(safeDefault(2).decision).toBe('escalate');
    expect(safeDefault(0).decision).toBe('finish');
  });
});

describe('worker outputs', () => {
  it('reads the Inspector findings and reports a missing object', () => {
    const ok = parseFindings(
      'Ran the tests.\n{"findings":[{"severity":"CRITICAL","file":"a.ts","description":"MD5"}]}',
    );
    expect(ok.findings).toEqual([{ severity: 'critical', file: 'a.ts', description: 'MD5' }]);
    expect(parseFindings('all good').error).toMatch(/no JSON object \{"findings"/);
  });
  it('reads usage only from the context’s last line', () => {
    expect(usageFromContext('the model said\nmodel qwen3:32b · tokens in 120 / out 30')).toEqual({
      inputTokens: 120,
      outputTokens: 30,
      model: 'qwen3:32b',
    });
    expect(usageFromContext('model x · tokens in 1 / out 2\nmore text')).toBeUndefined();
  });
  it('derives request ids from run, step, iteration and attempt', () => {
    expect(requestId('run_a', { step: 'build', iteration: 2, attempt: 1 })).toBe('req_run_a_build_i2_a1');
  });
});

describe('debate votes', () => {
  it('parses a vote and turns anything else into an abstention with the reason', () => {
    expect(parseVote('builder', reply('{"option":"finish","confidence":0.8,"rationale":"ok"}'))).toEqual({
      voter: 'builder',
      option: 'finish',
      confidence: 0.8,
      rationale: 'ok',
    });
    expect(parseVote('builder', undefined)).toMatchObject({ abstain: true, reason: 'no vote' });
    expect(parseVote('builder', reply('I think we should finish'))).toMatchObject({ abstain: true });
  });
  it('delivers a vote that arrives before or after its wait, and times out to undefined', async () => {
    const awaiter = new InboxAwaiter();
    expect(awaiter.deliver(reply('{}', 'req_not_a_vote'))).toBe(false);
    expect(awaiter.deliver(reply('early', 'vote_1'))).toBe(true);
    expect((await awaiter.wait('vote_1', 1000))?.content).toBe('early');
    const late = awaiter.wait('vote_2', 5000);
    awaiter.deliver(reply('late', 'vote_2'));
    expect((await late)?.content).toBe('late');
    expect(await awaiter.wait('vote_3', 10)).toBeUndefined();
  });
});

describe('request context', () => {
  const ctx = (outputs: Record<string, string>) =>
    ({
      runId: 'run_1',
      task: 'fix sum',
      phase: 2,
      iteration: 9,
      attempt: 1,
      outputs,
      findings: [],
      humanNotes: [],
      trust: {},
    }) as unknown as Parameters<typeof requestContext>[0];

  it('passes the Scribe summary instead of the raw history, so it does not grow with the run', () => {
    const small = ctx({ frame: 'goal', design: 'plan', build: 'b'.repeat(1000) });
    const big = ctx({
      frame: 'goal',
      design: 'plan',
      build: 'b'.repeat(1000),
      refactor: 'r'.repeat(1000),
      inspect: 'i'.repeat(1000),
    });
    const summary = '# Summary of run_1\n> model summary\nThe team fixed sum().';
    const a = requestContext(small, 6000, summary, []);
    const b = requestContext(big, 6000, summary, []);
    expect(a).toContain('## Team summary (Scribe)');
    expect(a).toContain('The team fixed sum().');
    expect(a).not.toContain('# Summary of run_1');
    expect(b.length).toBe(a.length);
    expect(b).not.toContain('## refactor');
    // Without a summary, every output travels (truncated).
    expect(requestContext(big, 20_000, null)).toContain('## refactor');
  });
});
