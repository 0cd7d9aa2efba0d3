import { describe, expect, it } from 'vitest';
import { describeToolCall, summariseValue } from './tool-status.js';
import { responseContext, toolsLine, usageLine } from './usage-line.js';

const call = (name: string, args: Record<string, unknown>) => ({ id: 'c', name, arguments: args });

describe('describeToolCall', () => {
  it('shows short arguments and reduces file contents to their length', () => {
    const line = describeToolCall({
      call: call('write_file', { path: 'src/sum.js', content: 'x'.repeat(137) }),
      outcome: { ok: true, output: 'wrote 137 bytes to src/sum.js' },
    });
    expect(line).toBe('tool write_file {"path":"src/sum.js","content":"<137 chars>"} → ok');
  });

  it("adds a command's verdict, never its output", () => {
    const line = describeToolCall({
      call: call('run_command', { argv: ['npm', 'test'] }),
      outcome: { ok: true, output: '$ npm test\nexit code 0 after 812 ms\n--- stdout ---\nSECRET_OUTPUT' },
    });
    expect(line).toBe('tool run_command {"argv":["npm","test"]} → ok (exit code 0 after 812 ms)');
    expect(line).not.toContain('SECRET_OUTPUT');
  });

  it('shows a refusal with its code and reason', () => {
    const line = describeToolCall({
      call: call('write_file', { path: 'a.txt', content: 'x' }),
      outcome: {
        ok: false,
        error: { code: 'TOOL_NOT_PERMITTED', message: 'write_file is not permitted for inspector' },
      },
    });
    expect(line).toBe(
      'tool write_file {"path":"a.txt","content":"x"} → error TOOL_NOT_PERMITTED: write_file is not permitted for inspector',
    );
  });

  it.each([
    [{ apiKey: 'abc' }, '{"apiKey":"[redacted]"}'],
    [{ headers: { Authorization: 'Bearer x' } }, '{"headers":{"Authorization":"[redacted]"}}'],
    [{ argv: ['node', 'OPENAI_API_KEY=sk-live-123'] }, '{"argv":["node","OPENAI_API_KEY=[redacted]"]}'],
    [{ query: 'sk-ant-api03-abcdef' }, '{"query":"[redacted]"}'],
    [{ note: 'ghp_0123456789abcdef' }, '{"note":"[redacted]"}'],
    [{ blob: 'A'.repeat(40) }, '{"blob":"[redacted]"}'],
    [{ password: '' }, '{"password":""}'],
  ])('redacts secrets: %j', (args, expected) => {
    expect(summariseValue(args)).toBe(expected);
  });

  it('bounds deep, wide and long values', () => {
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    expect(summariseValue(wide)).toContain('…12 more');
    expect(summariseValue({ a: { b: { c: { d: 1 } } } })).toBe('{"a":{"b":{…}}}');
    const line = describeToolCall({
      call: call('x'.repeat(500), { a: 'b' }),
      outcome: { ok: false, error: { code: 'UNKNOWN_TOOL', message: 'y'.repeat(5000) } },
    });
    expect(line.length).toBeLessThanOrEqual(500);
  });
});

describe('the RESPONSE context', () => {
  const loop = {
    final: { model: 'qwen3:32b' },
    usage: { inputTokens: 1200, outputTokens: 340 },
    iterations: 3,
    toolCalls: [
      { call: call('write_file', {}), outcome: { ok: true as const, output: '' } },
      { call: call('write_file', {}), outcome: { ok: true as const, output: '' } },
      { call: call('run_command', {}), outcome: { ok: false as const, error: { code: 'X', message: 'y' } } },
    ],
  } as unknown as Parameters<typeof responseContext>[1];

  it('ends with the usage line the Director parses', () => {
    const context = responseContext('relied on the tests', loop, 'abc123 [run r] builder: fix');
    const lines = context.split('\n');
    expect(lines.at(-1)).toBe('model qwen3:32b · tokens in 1200 / out 340');
    expect(lines).toContain('commit abc123 [run r] builder: fix');
    expect(lines).toContain('tools: 3 calls (write_file ×2, run_command ×1), 1 failed or refused');
    expect(lines[0]).toBe('relied on the tests');
    // The Director's own expressions (services/director driver.ts).
    const last = lines.at(-1) ?? '';
    expect(/tokens in (\d+) \/ out (\d+)/.exec(last)?.slice(1)).toEqual(['1200', '340']);
    expect(/model ([^\s·]+)/.exec(last)?.[1]).toBe('qwen3:32b');
  });

  it('is just the usage line when there is nothing else', () => {
    expect(responseContext(undefined, { ...loop, toolCalls: [] }, undefined)).toBe(
      'model qwen3:32b · tokens in 1200 / out 340',
    );
    expect(toolsLine([])).toBeUndefined();
    expect(usageLine('odd model·name', { inputTokens: 1, outputTokens: 2 })).toBe(
      'model odd_model_name · tokens in 1 / out 2',
    );
  });
});
