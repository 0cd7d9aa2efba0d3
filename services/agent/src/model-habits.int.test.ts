// A real Ollama's habits (issue 20), played by the testkit's fake with the real `ollama` client:
// the longest prompt the team builds arrives whole; a cut prompt, a length-cut answer, thinking and
// tool calls written as text are each handled, including the failure paths.
import {
  buildAgentPrompt,
  type ChatMessage,
  contextBudgetChars,
  fitToBudget,
  LlmOutputTruncated,
  OllamaChatModel,
  readModelReply,
  runToolLoop,
  type ToolSpec,
} from '@nightshift/llm';
import { type Message, newId, OUTPUT_JSON_SCHEMAS, readOutput } from '@nightshift/protocol';
import { type FakeOllama, startFakeOllama } from '@nightshift/testkit';
import { toolsForRole } from '@nightshift/tools';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let fake: FakeOllama;
beforeAll(async () => {
  fake = await startFakeOllama({ models: ['qwen3:32b'] });
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.setScenario([]);
  fake.reset();
});

const model = (extra: Partial<ConstructorParameters<typeof OllamaChatModel>[0]> = {}) =>
  new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m', ...extra });

const builderSpecs: ToolSpec[] = toolsForRole('builder', {
  deny: ['gateway', 'cron'],
  memoryDir: '/nonexistent/memory',
  askScout: async () => 'unused',
}).map((t) => ({ name: t.name, description: t.description, parameters: t.jsonSchema }));

/** The Builder's longest turn: a long task with the Scribe's summary at its bound (2,000 tokens ≈ 8,000 chars), then three 64 KB tool outputs. */
function longestBuilderTurn(): ChatMessage[] {
  const request: Message = {
    id: newId('msg'),
    runId: 'run_long',
    from: 'director',
    to: 'builder',
    type: 'REQUEST',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: `Implement the change.\n${'Details of the task. '.repeat(100)}`,
    context: `Scribe summary:\n${'The team decided things. '.repeat(320)}`,
  };
  const messages = buildAgentPrompt('builder', request);
  for (let i = 0; i < 3; i++) {
    const id = `call_${i}`;
    messages.push(
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id, name: 'read_file', arguments: { path: `f${i}.ts` } }],
      },
      { role: 'tool', toolCallId: id, toolName: 'read_file', content: `${i}`.repeat(64 * 1024) },
    );
  }
  return messages;
}

describe('the context window', () => {
  it('the longest Builder prompt, fitted to the budget derived from num_ctx, reaches Ollama whole', async () => {
    const messages = longestBuilderTurn();
    const systemFirstLine = messages[0]?.content.split('\n')[0] as string;
    const budget = contextBudgetChars({
      numCtx: 8192,
      numPredict: 2048,
      tools: builderSpecs,
      capChars: 24_000,
    });
    const fitted = fitToBudget(messages, budget);
    expect(fitted.fits).toBe(true);
    const cuts: unknown[] = [];
    const result = await model({ numCtx: 8192, onPromptCut: (i) => cuts.push(i) }).chat({
      role: 'builder',
      messages: fitted.messages,
      tools: builderSpecs,
    });
    const seen = fake.records.at(-1);
    expect(seen?.numCtx).toBe(8192);
    expect(seen?.truncated).toBe(false);
    expect(seen?.messages[0]?.content.split('\n')[0]).toBe(systemFirstLine);
    expect(result.promptCut).toBeUndefined();
    expect(cuts).toEqual([]);
  });

  it('a prompt past the window loses its start at Ollama, and that is detected and reported', async () => {
    const messages = longestBuilderTurn(); // not fitted: ~200 KB
    const systemFirstLine = messages[0]?.content.split('\n')[0] as string;
    const cuts: { promptEvalCount: number; numCtx: number }[] = [];
    const result = await model({ numCtx: 8192, onPromptCut: (i) => cuts.push(i) }).chat({
      role: 'builder',
      messages,
      tools: builderSpecs,
    });
    const seen = fake.records.at(-1);
    expect(seen?.truncated).toBe(true);
    expect(seen?.messages.some((m) => m.content.includes(systemFirstLine))).toBe(false);
    expect(result.promptCut).toBe(true);
    expect(cuts).toEqual([expect.objectContaining({ promptEvalCount: 8192, numCtx: 8192 })]);
  });

  it('the fake keeps Ollama’s 2048-token default for a request without num_ctx', async () => {
    const response = await fetch(`${fake.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'qwen3:32b',
        stream: false,
        messages: [
          { role: 'system', content: 'SYSTEM-FIRST-LINE\nrules' },
          { role: 'user', content: 'x'.repeat(12_000) },
        ],
      }),
    });
    const body = (await response.json()) as { prompt_eval_count: number };
    expect(body.prompt_eval_count).toBe(2048);
    expect(fake.records.at(-1)?.truncated).toBe(true);
    expect(fake.records.at(-1)?.messages.map((m) => m.role)).toEqual(['user']);
  });
});

describe('an answer cut at num_predict', () => {
  it('is asked for once more with twice the room, and the whole answer is used', async () => {
    const long = 'word '.repeat(2000); // 10,000 chars ≈ 2,500 tokens: over 2048, under 4096
    const predicts: unknown[] = [];
    fake.setScenario([
      {
        reply: (r) => {
          predicts.push((r.body.options as { num_predict?: number }).num_predict);
          return { content: long };
        },
      },
    ]);
    const result = await model({ numCtx: 8192, numPredict: 2048 }).chat({
      role: 'builder',
      messages: [{ role: 'user', content: 'write it all' }],
    });
    expect(result.text).toBe(long.trim());
    expect(fake.records.map((r) => r.doneReason)).toEqual(['length', 'stop']);
    expect(predicts).toEqual([2048, 4096]);
  });

  it('fails with LLM_OUTPUT_TRUNCATED naming the limit when the retry is cut too', async () => {
    fake.setScenario([{ reply: { content: 'word '.repeat(8000) } }]); // ≈ 10,000 tokens
    const error = await model({ numCtx: 8192, numPredict: 2048 })
      .chat({ role: 'builder', messages: [{ role: 'user', content: 'write it all' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmOutputTruncated);
    expect((error as LlmOutputTruncated).code).toBe('LLM_OUTPUT_TRUNCATED');
    expect((error as Error).message).toMatch(/num_predict=4096 within num_ctx=8192/);
    expect(fake.records).toHaveLength(2);
  });
});

describe('thinking', () => {
  const reasoning =
    'FROM: Builder\nTO: ALL\nTYPE: DECISION\nPRIORITY: EMERGENCY\n\n### Content\nabort everything';
  const answer =
    'FROM: Builder\nTO: Director\nTYPE: RESPONSE\nPRIORITY: NORMAL\nTIMESTAMP: 2026-01-28T03:50:00Z\n\n### Content\nfixed sum()';

  it.each([
    ['off: inline <think> from the model', false],
    ['on: message.thinking from the server', true],
  ] as const)('is never parsed as the answer (%s)', async (_label, think) => {
    fake.setScenario([{ reply: { content: answer, thinking: reasoning } }]);
    const result = await model({ think }).chat({
      role: 'builder',
      messages: [{ role: 'user', content: 'go' }],
    });
    expect(result.text).toBe(answer);
    expect(result.text).not.toContain('abort everything');
    expect(result.thinking).toContain('abort everything');
    const reply = readModelReply(result.text);
    expect(reply.content).toContain('fixed sum()');
    expect(JSON.stringify(reply)).not.toContain('EMERGENCY');
  });
});

describe('tool calls written as text', () => {
  it('are recognised, run like native calls, and counted', async () => {
    fake.setScenario([
      {
        times: 1,
        reply: {
          content: 'I will read it.',
          toolCalls: [{ name: 'read_file', arguments: { path: 'src/sum.js' } }],
          toolCallsAsText: true,
        },
      },
      { reply: { content: 'done' } },
    ]);
    const direct = await model().chat({
      role: 'builder',
      messages: [{ role: 'user', content: 'read src/sum.js' }],
      tools: builderSpecs,
    });
    expect(direct.toolCalls).toEqual([{ name: 'read_file', arguments: { path: 'src/sum.js' } }]);
    expect(direct.textToolCalls).toBe(1);
    expect(direct.text).toBe('I will read it.');

    fake.setScenario([
      {
        times: 1,
        reply: {
          toolCalls: [{ name: 'read_file', arguments: { path: 'src/sum.js' } }],
          toolCallsAsText: true,
        },
      },
      { reply: { content: 'done' } },
    ]);
    const ran: unknown[] = [];
    const loop = await runToolLoop({
      model: model(),
      request: { role: 'builder', messages: [{ role: 'user', content: 'read src/sum.js' }] },
      tools: builderSpecs,
      execute: async (call) => {
        ran.push(call.arguments);
        return { ok: true, output: 'module.exports = (a, b) => a + b;' };
      },
    });
    expect(ran).toEqual([{ path: 'src/sum.js' }]);
    expect(loop.final.text).toBe('done');
  });

  it('are left alone when they name a tool that was not offered', async () => {
    fake.setScenario([
      {
        reply: {
          content: 'x',
          toolCalls: [{ name: 'delete_everything', arguments: {} }],
          toolCallsAsText: true,
        },
      },
    ]);
    const result = await model().chat({
      role: 'builder',
      messages: [{ role: 'user', content: 'go' }],
      tools: builderSpecs,
    });
    expect(result.toolCalls).toEqual([]);
    expect(result.text).toContain('delete_everything');
  });
});

describe('structured outputs (format)', () => {
  const ask = {
    role: 'inspector' as const,
    messages: [{ role: 'user' as const, content: 'Review it. OUTPUT: findings' }],
    format: OUTPUT_JSON_SCHEMAS.findings,
  };

  it('sends the JSON Schema as format, and the answer is the JSON only', async () => {
    const seen: unknown[] = [];
    fake.setScenario([
      {
        reply: (r) => {
          seen.push({ format: r.body.format, think: r.body.think });
          return {
            content: 'Checked the parser.\n{"findings": [{"severity": "minor", "description": "naming"}]}',
          };
        },
      },
    ]);
    const result = await model({ think: true }).chat(ask);
    expect(seen).toEqual([{ format: OUTPUT_JSON_SCHEMAS.findings, think: false }]);
    expect(JSON.parse(result.text)).toEqual({ findings: [{ severity: 'minor', description: 'naming' }] });
    expect(readOutput('findings', result.text).ok).toBe(true);
  });

  it('falls back to the check when the server ignores format: prose is still refused by the schema', async () => {
    fake.setScenario([{ reply: { content: 'Looks fine to me.', ignoreFormat: true } }]);
    const result = await model().chat(ask);
    expect(result.text).toBe('Looks fine to me.');
    const read = readOutput('findings', result.text);
    expect(read.ok).toBe(false);
  });
});
