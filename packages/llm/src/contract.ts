// The ChatModel contract suite (STYLE: contract suites where implementations share an
// interface). Run it per implementation: `chatModelContract('ollama', factory)` in a test file.
// Imported from `@nightshift/llm/contract` only, so runtime code never loads vitest.
import { NightshiftError } from '@nightshift/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { personaFor } from './personas/roles.js';
import type { ChatModel, ChatRequest } from './types.js';

/** The next reply the server behind the model should give (the factory maps it to its fake). */
export interface ContractReply {
  text?: string;
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  /** Hold the reply this long (for abort tests). */
  latencyMs?: number;
  /** Answer with the provider's "busy/overloaded" status instead (503 Ollama, 529 Anthropic). */
  busy?: boolean;
}

export interface ContractSubject {
  model: ChatModel;
  /** Scripts every following call (until reset). */
  script(reply: ContractReply): void;
  reset(): void;
  /** Role markers the server saw, in call order (fake records). */
  seenRoles(): (string | null)[];
  close(): Promise<void>;
}

const ask = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  role: 'builder',
  messages: [
    { role: 'system', content: personaFor('builder').systemPrompt },
    { role: 'user', content: text },
  ],
  ...extra,
});

export function chatModelContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`ChatModel contract: ${name}`, () => {
    let subject: ContractSubject;
    beforeAll(async () => {
      subject = await factory();
    });
    afterAll(async () => {
      await subject?.close();
    });
    beforeEach(() => subject.reset());

    it('answers with text, usage, model and latency', async () => {
      subject.script({ text: 'hello from the model' });
      const result = await subject.model.chat(ask('say hello', { runId: 'run_contract' }));
      expect(result.text).toContain('hello from the model');
      expect(result.toolCalls).toEqual([]);
      expect(result.model).toMatch(/\S/);
      expect(['ollama', 'anthropic', 'gateway', 'simulated']).toContain(result.provider);
      expect(result.usage.inputTokens).toBeGreaterThanOrEqual(0);
      expect(result.usage.outputTokens).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(result.usage.inputTokens)).toBe(true);
      expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    });

    it("carries the persona's ROLE marker to the model", async () => {
      const before = subject.seenRoles().length;
      await subject.model.chat({
        role: 'inspector',
        messages: [
          { role: 'system', content: personaFor('inspector').systemPrompt },
          { role: 'user', content: 'check this' },
        ],
      });
      expect(subject.seenRoles().slice(before)).toEqual(['inspector']);
    });

    it('maps tool calls both ways', async () => {
      subject.script({ toolCalls: [{ name: 'read_file', arguments: { path: 'src/a.ts' } }] });
      const tools: ChatRequest['tools'] = [
        {
          name: 'read_file',
          description: 'Read a file of the workspace',
          parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
        },
      ];
      const first = await subject.model.chat(ask('read src/a.ts', { tools }));
      expect(first.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments }))).toEqual([
        { name: 'read_file', arguments: { path: 'src/a.ts' } },
      ]);
      subject.script({ text: 'the file exports a' });
      const call = first.toolCalls[0];
      const second = await subject.model.chat({
        ...ask('read src/a.ts', { tools }),
        messages: [
          ...ask('read src/a.ts').messages,
          { role: 'assistant', content: '', toolCalls: first.toolCalls },
          {
            role: 'tool',
            content: 'export const a = 1;',
            toolName: 'read_file',
            toolCallId: call?.id ?? 'read_file',
          },
        ],
      });
      expect(second.text).toContain('the file exports a');
    });

    it('refuses an already-aborted call with a typed error', async () => {
      const before = subject.seenRoles().length;
      const controller = new AbortController();
      controller.abort();
      const error = await subject.model
        .chat(ask('never sent', { signal: controller.signal }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NightshiftError);
      expect(subject.seenRoles().length).toBe(before);
    });

    it('stops waiting when aborted mid-call', async () => {
      subject.script({ text: 'too late', latencyMs: 30_000 });
      const controller = new AbortController();
      const pending = subject.model
        .chat(ask('slow one', { signal: controller.signal }))
        .catch((e: unknown) => e);
      // Abort once the server holds the call, so the abort hits an in-flight request.
      const before = subject.seenRoles().length;
      await until(() => subject.seenRoles().length > before);
      controller.abort();
      const error = await pending;
      expect(error).toBeInstanceOf(NightshiftError);
      expect((error as NightshiftError).code).toBe('LLM_ABORTED');
    });

    it('reports a busy server as a transient error', async () => {
      subject.script({ busy: true });
      const error = await subject.model.chat(ask('busy?')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NightshiftError);
      expect((error as NightshiftError).category).toBe('transient');
    });
  });
}

async function until(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('contract: condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
