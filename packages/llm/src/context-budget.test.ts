import { describe, expect, it } from 'vitest';
import { conversationChars, fitToBudget } from './context-budget.js';
import type { ChatMessage } from './types.js';

const base: ChatMessage[] = [
  { role: 'system', content: `ROLE: inspector\n${'s'.repeat(2000)}` },
  { role: 'user', content: `Run the tests. ${'u'.repeat(2000)}` },
];

describe('fitToBudget', () => {
  it('leaves a conversation within budget untouched', () => {
    const fit = fitToBudget(base, 10_000);
    expect(fit).toMatchObject({ truncated: 0, fits: true });
    expect(fit.messages).toEqual(base);
  });

  it('keeps the head and the tail of a cut tool output (status line first, verdict last)', () => {
    const output = `$ npm test\nexit code 0 after 12 ms\n${'x'.repeat(20_000)}\n# pass 3\n# fail 0`;
    const messages: ChatMessage[] = [...base, { role: 'tool', content: output, toolName: 'run_command' }];
    const fit = fitToBudget(messages, 8000);
    expect(fit.fits).toBe(true);
    expect(fit.chars).toBeLessThanOrEqual(8000);
    expect(conversationChars(fit.messages)).toBe(fit.chars);
    const cut = fit.messages[2]?.content ?? '';
    expect(cut.startsWith('$ npm test\nexit code 0')).toBe(true);
    expect(cut.endsWith('# pass 3\n# fail 0')).toBe(true);
    expect(cut).toMatch(/\d+ chars truncated to fit the context budget/);
    // The input is not mutated.
    expect(messages[2]?.content).toBe(output);
  });

  it('cuts tool output before assistant arguments, and never the system prompt or request', () => {
    const messages: ChatMessage[] = [
      ...base,
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'c1', name: 'write_file', arguments: { path: 'a.js', content: 'w'.repeat(5000) } }],
      },
      { role: 'tool', content: 'wrote 5000 bytes to a.js', toolName: 'write_file' },
      { role: 'tool', content: 'o'.repeat(5000), toolName: 'read_file' },
    ];
    // Cutting the read output alone is enough here.
    const light = fitToBudget(messages, 11_000);
    expect(light.fits).toBe(true);
    expect(light.messages[2]?.toolCalls?.[0]?.arguments.content).toBe('w'.repeat(5000));
    expect(light.messages[4]?.content.length).toBeLessThan(5000);
    // A tighter budget then elides the long argument of the earlier write.
    const tight = fitToBudget(messages, 5000);
    expect(tight.fits).toBe(true);
    expect(tight.messages[2]?.toolCalls?.[0]?.arguments).toEqual({
      path: 'a.js',
      content: '<5000 chars omitted (context budget)>',
    });
    expect(tight.messages[0]).toEqual(base[0]);
    expect(tight.messages[1]).toEqual(base[1]);
  });

  it('says when even the protected messages do not fit', () => {
    const fit = fitToBudget([...base, { role: 'tool', content: 'z'.repeat(3000) }], 1000);
    expect(fit.fits).toBe(false);
    expect(fit.messages[0]).toEqual(base[0]);
    expect(fit.messages[1]).toEqual(base[1]);
    expect(fit.messages[2]?.content.length).toBeLessThan(400);
  });
});
