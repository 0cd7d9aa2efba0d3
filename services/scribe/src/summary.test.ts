import type { Message } from '@nightshift/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bound,
  cleanModelText,
  EMPTY_SUMMARY,
  extractiveBody,
  foldRecent,
  messageLine,
  RECENT_PER_SENDER,
  renderSummary,
  summaryPrompt,
} from './summary.js';

let seq = 0;
function msg(from: Message['from'], content: string, type: Message['type'] = 'RESPONSE'): Message {
  seq++;
  return {
    id: `m${seq}`,
    runId: 'run-s',
    from,
    to: from === 'director' ? 'ALL' : 'director',
    type,
    priority: 'NORMAL',
    timestamp: new Date(Date.UTC(2026, 0, 28, 3, 0, seq)).toISOString(),
    content,
  };
}

describe('summary bound', () => {
  it('never exceeds the bound, whatever the text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 5000 }), fc.integer({ min: 40, max: 3000 }), (text, max) => {
        expect(bound(text, max).length).toBeLessThanOrEqual(max);
      }),
    );
  });

  it('keeps a short text as is and says when it cut', () => {
    expect(bound('short', 100)).toBe('short');
    const cut = bound(`${'line\n'.repeat(100)}`, 120);
    expect(cut).toMatch(/cut to the summary bound\]$/);
  });

  it('renders a stored summary within maxChars even from a huge body, header included', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20_000 }), fc.integer({ min: 700, max: 9000 }), (body, max) => {
        const text = renderSummary(
          'Run summary — r',
          'run r',
          { ...EMPTY_SUMMARY, body, mode: 'model', messages: 3 },
          max,
        );
        expect(text.length).toBeLessThanOrEqual(max);
      }),
    );
  });
});

describe('extractive fallback', () => {
  it('says so in the header, with the reason', () => {
    const text = renderSummary(
      'Run summary — r',
      'run r',
      {
        ...EMPTY_SUMMARY,
        body: 'x',
        mode: 'extractive',
        reason: 'TimeoutError: LLM call timed out',
        messages: 9,
      },
      8000,
    );
    expect(text.split('\n')[1]).toMatch(
      /^> EXTRACTIVE FALLBACK: the model was unavailable \(TimeoutError: LLM call timed out\)/,
    );
    expect(text).toContain('not a model summary');
  });

  it('keeps the latest key lines per agent (chatter left out) and the last model summary, within the bound', () => {
    const messages: Message[] = [];
    for (let i = 0; i < 30; i++) {
      messages.push(msg('builder', `built part ${i}`));
      messages.push(msg('scout', `found fact ${i}`));
      messages.push(msg('inspector', `working on it ${i}`, 'STATUS'));
    }
    messages.push(msg('director', 'Phase 3 (Review) started, iteration 1.', 'STATUS'));
    const recent = foldRecent({}, messages);
    expect(recent.builder).toHaveLength(RECENT_PER_SENDER);
    expect(recent.inspector).toBeUndefined();
    const body = extractiveBody({ recent, modelBody: 'The team built the login form.' }, 2000);
    expect(body.length).toBeLessThanOrEqual(2000);
    expect(body).toContain('## Last model summary (may be out of date)\nThe team built the login form.');
    expect(body).toContain('built part 29');
    expect(body).toContain('found fact 29');
    expect(body).toContain('Phase 3 (Review) started');
    expect(body).not.toContain('built part 24');
  });

  it('gives every agent its newest line before anyone gets a second one when room is short', () => {
    const recent = foldRecent({}, [
      msg('builder', 'b1 '.repeat(40)),
      msg('builder', 'b2 '.repeat(40)),
      msg('scout', 's1 '.repeat(40)),
      msg('architect', 'a1 '.repeat(40)),
    ]);
    const body = extractiveBody({ recent }, 560);
    expect(body).toContain('b2');
    expect(body).toContain('s1');
    expect(body).toContain('a1');
    expect(body).not.toContain('b1');
  });
});

describe('the fold prompt', () => {
  it('asks to summarise, never append, within the bound, with the current summary and the new lines', () => {
    const lines = [messageLine(msg('builder', 'Completed the auth module.\nReady for review.'))];
    const [system, user] = summaryPrompt('run r', 'Old summary.', lines, 7400);
    expect(system?.content).toMatch(/^ROLE: scribe$/m);
    expect(system?.content).toContain('Summarise, never append');
    expect(system?.content).toContain('at most 7400 characters');
    expect(user?.content).toContain('## Current summary\nOld summary.');
    expect(user?.content).toContain(
      'Builder → Director RESPONSE: Completed the auth module. Ready for review.',
    );
  });

  it('drops thinking blocks from a model answer and bounds it', () => {
    expect(cleanModelText('<think>hmm</think>\nThe summary.', 100)).toBe('The summary.');
    expect(cleanModelText('y'.repeat(500), 100).length).toBeLessThanOrEqual(100);
  });
});
