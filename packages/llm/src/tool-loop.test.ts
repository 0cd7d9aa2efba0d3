import { describe, expect, it } from 'vitest';
import { ScriptedChatModel } from './simulated.js';
import { runToolLoop, type ToolOutcome } from './tool-loop.js';
import type { ChatRequest, ToolCall, ToolSpec } from './types.js';

const spec = (name: string): ToolSpec => ({
  name,
  description: `the ${name} tool`,
  parameters: { type: 'object', properties: { path: { type: 'string' } } },
});
const TOOLS = [spec('list_files'), spec('read_file'), spec('write_file')];

const request = (text = 'Fix sum() in src/sum.js'): ChatRequest => ({
  role: 'builder',
  runId: 'run_loop',
  messages: [
    { role: 'system', content: 'ROLE: builder\nYou build.' },
    { role: 'user', content: text },
  ],
});

const calling = (...calls: ToolCall[]) => ({
  text: '',
  toolCalls: calls,
  usage: { inputTokens: 10, outputTokens: 2 },
});
const answer = (text: string) => ({ text, usage: { inputTokens: 20, outputTokens: 5 } });
const ok = (output: string): ToolOutcome => ({ ok: true, output });

describe('runToolLoop', () => {
  it('calls tools, feeds results back in order, and ends on a plain answer', async () => {
    const model = new ScriptedChatModel({
      replies: [
        calling(
          { name: 'list_files', arguments: {} },
          { name: 'read_file', arguments: { path: 'src/sum.js' } },
        ),
        answer('Done: the loop starts at 0 now.'),
      ],
    });
    const executed: string[] = [];
    const seen: string[] = [];
    const result = await runToolLoop({
      model,
      request: request(),
      tools: TOOLS,
      execute: async (call) => {
        executed.push(call.name);
        return ok(call.name === 'list_files' ? 'src/sum.js' : 'export function sum() {}');
      },
      onToolCall: (r) => {
        seen.push(`${r.iteration}.${r.index} ${r.call.name}`);
      },
    });
    expect(executed).toEqual(['list_files', 'read_file']);
    expect(seen).toEqual(['1.0 list_files', '1.1 read_file']);
    expect(result.stoppedAtCap).toBe(false);
    expect(result.iterations).toBe(2);
    expect(result.final.text).toBe('Done: the loop starts at 0 now.');
    expect(result.usage).toEqual({ inputTokens: 30, outputTokens: 7 });
    // The second call saw the assistant turn with both calls (with ids) and both results.
    const second = model.calls[1]?.messages ?? [];
    expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool']);
    const ids = second[2]?.toolCalls?.map((c) => c.id);
    expect(ids).toEqual(['call_1_0', 'call_1_1']);
    expect(second[3]).toMatchObject({
      toolCallId: 'call_1_0',
      toolName: 'list_files',
      content: 'src/sum.js',
    });
    expect(second[4]).toMatchObject({ toolCallId: 'call_1_1', toolName: 'read_file' });
    // Tools are offered on every call.
    expect(model.calls.every((c) => c.tools?.length === 3)).toBe(true);
  });

  it('keeps provider call ids (Anthropic tool_use ids)', async () => {
    const model = new ScriptedChatModel({
      replies: [calling({ id: 'toolu_1', name: 'list_files', arguments: {} }), answer('ok')],
    });
    await runToolLoop({ model, request: request(), tools: TOOLS, execute: async () => ok('a') });
    expect(model.calls[1]?.messages.at(-1)).toMatchObject({ role: 'tool', toolCallId: 'toolu_1' });
  });

  it('stops at the cap when the model keeps calling tools, without running the last calls', async () => {
    const model = new ScriptedChatModel({ replies: [calling({ name: 'list_files', arguments: {} })] });
    let executed = 0;
    const result = await runToolLoop({
      model,
      request: request(),
      tools: TOOLS,
      maxIterations: 4,
      execute: async () => {
        executed++;
        return ok('src/sum.js');
      },
    });
    expect(result.stoppedAtCap).toBe(true);
    expect(result.iterations).toBe(4);
    expect(model.calls).toHaveLength(4);
    expect(executed).toBe(3);
    expect(result.toolCalls).toHaveLength(3);
    expect(result.final.toolCalls).toHaveLength(1);
    expect(result.usage).toEqual({ inputTokens: 40, outputTokens: 8 });
  });

  it('does not report the cap when the last allowed call answers', async () => {
    const model = new ScriptedChatModel({
      replies: [calling({ name: 'list_files', arguments: {} }), answer('the answer')],
    });
    const result = await runToolLoop({
      model,
      request: request(),
      tools: TOOLS,
      maxIterations: 2,
      execute: async () => ok('x'),
    });
    expect(result.stoppedAtCap).toBe(false);
    expect(result.final.text).toBe('the answer');
  });

  it('hands a refused tool back to the model as an error and carries on', async () => {
    const model = new ScriptedChatModel({
      replies: (req) => {
        const last = req.messages.at(-1);
        if (last?.role !== 'tool') return calling({ name: 'write_file', arguments: { path: 'a.js' } });
        if (last.content.startsWith('ERROR'))
          return calling({ name: 'read_file', arguments: { path: 'a.js' } });
        return answer(`read it after: ${req.messages.at(-3)?.content}`);
      },
    });
    const result = await runToolLoop({
      model,
      request: request(),
      tools: TOOLS,
      execute: async (call) =>
        call.name === 'write_file'
          ? {
              ok: false,
              error: { code: 'TOOL_NOT_PERMITTED', message: 'write_file is not permitted for inspector' },
            }
          : ok('const a = 1;'),
    });
    expect(result.stoppedAtCap).toBe(false);
    expect(result.toolCalls.map((r) => [r.call.name, r.outcome.ok])).toEqual([
      ['write_file', false],
      ['read_file', true],
    ]);
    expect(result.final.text).toBe(
      'read it after: ERROR TOOL_NOT_PERMITTED: write_file is not permitted for inspector',
    );
  });

  it('turns a throwing executor into a tool error, not a failed loop', async () => {
    const model = new ScriptedChatModel({
      replies: [calling({ name: 'read_file', arguments: {} }), answer('recovered')],
    });
    const result = await runToolLoop({
      model,
      request: request(),
      tools: TOOLS,
      execute: async () => {
        throw new Error('disk on fire');
      },
    });
    expect(result.toolCalls[0]?.outcome).toEqual({
      ok: false,
      error: { code: 'TOOL_FAILED', message: 'disk on fire' },
    });
    expect(model.calls[1]?.messages.at(-1)?.content).toBe('ERROR TOOL_FAILED: disk on fire');
    expect(result.final.text).toBe('recovered');
  });

  it('truncates the oldest tool output first, never the system prompt or the request', async () => {
    const bigRequest = `Fix it. ${'r'.repeat(3000)}`;
    const outputs = ['A'.repeat(6000), 'B'.repeat(6000), 'C'.repeat(6000)];
    let n = 0;
    const model = new ScriptedChatModel({
      replies: (_req, call) =>
        call < 3 ? calling({ name: 'read_file', arguments: { path: `f${call}` } }) : answer('done'),
    });
    const truncations: number[] = [];
    await runToolLoop({
      model,
      request: request(bigRequest),
      tools: TOOLS,
      contextBudgetChars: 16_000,
      execute: async () => ok(outputs[n++] ?? ''),
      onTruncate: (info) => truncations.push(info.iteration),
    });
    const last = model.calls[3]?.messages ?? [];
    const chars = last.reduce((s, m) => s + m.content.length + JSON.stringify(m.toolCalls ?? []).length, 0);
    expect(chars).toBeLessThanOrEqual(16_000 + 200);
    expect(last[0]?.content).toBe('ROLE: builder\nYou build.');
    expect(last[1]?.content).toBe(bigRequest);
    const tools = last.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(tools[0]).toContain('truncated to fit the context budget');
    expect(tools[0]?.length).toBeLessThan(6000);
    // The newest output is whole: the oldest paid first.
    expect(tools[2]).toBe('C'.repeat(6000));
    expect(truncations).toContain(4);
    // The caller's messages were not mutated.
    expect(model.calls[0]?.messages).toHaveLength(2);
  });

  it('stops with the abort reason when the signal fires during a tool', async () => {
    const controller = new AbortController();
    const model = new ScriptedChatModel({
      replies: [calling({ name: 'read_file', arguments: {} }), answer('never')],
    });
    const error = await runToolLoop({
      model,
      request: { ...request(), signal: controller.signal },
      tools: TOOLS,
      execute: async () => {
        controller.abort(new Error('role timeout'));
        throw new Error('killed');
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(model.calls).toHaveLength(1);
  });

  it('offers no tools when given none, and answers in one call', async () => {
    const model = new ScriptedChatModel({ replies: [answer('plain')] });
    const result = await runToolLoop({ model, request: request(), tools: [], execute: async () => ok('') });
    expect(model.calls[0]?.tools).toBeUndefined();
    expect(result).toMatchObject({ iterations: 1, stoppedAtCap: false, toolCalls: [] });
  });
});
