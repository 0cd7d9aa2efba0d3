// The tool loop: ask the model, run the tools it calls, feed the results back, repeat until it
// answers without a tool call or the hard iteration cap is reached (issue 6 §3). Provider-neutral:
// the ChatModel implementations map tool calls and results to Ollama's or Anthropic's shapes.
import { performance } from 'node:perf_hooks';
import {
  conversationChars,
  DEFAULT_CONTEXT_BUDGET_CHARS,
  type FitResult,
  fitToBudget,
} from './context-budget.js';
import { abortError } from './errors.js';
import { type RetryOptions, retryingChat } from './retry.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, ToolCall, ToolSpec, Usage } from './types.js';

/** Default cap on model calls per loop (config `tools.maxToolIterations`). */
export const DEFAULT_MAX_TOOL_ITERATIONS = 20;

/**
 * What running one tool call gave. Structurally the `ToolResult` of @nightshift/tools (which this
 * package may not import, ARCHITECTURE §4), so its `executeToolCall` plugs in as is.
 */
export type ToolOutcome =
  | { ok: true; output: string }
  | { ok: false; error: { code: string; message: string } };

export interface ToolCallRecord {
  /** 1-based model call that asked for it. */
  iteration: number;
  /** Position among that call's tool calls. */
  index: number;
  /** The call as made (with the id the loop gave it when the provider had none). */
  call: ToolCall & { id: string };
  outcome: ToolOutcome;
  durationMs: number;
}

export interface ToolLoopOptions {
  model: ChatModel;
  /** messages, role, runId, signal, deadline, priority…; its `tools` are replaced by `tools`. */
  request: ChatRequest;
  tools: readonly ToolSpec[];
  /** Runs one call; should not throw for anything the model did (a throw becomes a tool error). */
  execute: (call: ToolCall, info: { iteration: number; index: number }) => Promise<ToolOutcome>;
  /** Model calls at most (default 20). A reply still asking for tools at the cap ends the loop. */
  maxIterations?: number;
  /** Characters per model call before old tool output is truncated (default 24,000). */
  contextBudgetChars?: number;
  /** Told after each tool call (e.g. to publish a STATUS); awaited, must not throw. */
  onToolCall?: (record: ToolCallRecord) => void | Promise<void>;
  /** Told when the conversation had to be cut to fit the budget. */
  onTruncate?: (info: { iteration: number } & Omit<FitResult, 'messages'>) => void;
  /** When set, each model call retries transient failures (LlmQueueFull, busy) with backoff. */
  retry?: RetryOptions;
}

export interface ToolLoopResult {
  /** The last model reply: the answer, or (at the cap) the reply whose tool calls were not run. */
  final: ChatResult;
  /** Model calls made. */
  iterations: number;
  toolCalls: ToolCallRecord[];
  /** Tokens summed over every model call of the loop. */
  usage: Usage;
  /** Model latency summed over the loop. */
  latencyMs: number;
  /** True when the loop ended because the cap was reached, not because the model answered. */
  stoppedAtCap: boolean;
  /** The whole conversation as it stands at the end (after any truncation). */
  messages: ChatMessage[];
}

/** Tool output as the model reads it: the text, or a clearly marked error it can recover from. */
export function toolMessageContent(outcome: ToolOutcome): string {
  if (outcome.ok) return outcome.output === '' ? '(no output)' : outcome.output;
  return `ERROR ${outcome.error.code}: ${outcome.error.message}`;
}

export async function runToolLoop(options: ToolLoopOptions): Promise<ToolLoopResult> {
  const { model, request, tools } = options;
  const maxIterations = Math.max(1, Math.floor(options.maxIterations ?? DEFAULT_MAX_TOOL_ITERATIONS));
  const budget = options.contextBudgetChars ?? DEFAULT_CONTEXT_BUDGET_CHARS;
  const signal = request.signal;
  let messages: ChatMessage[] = [...request.messages];
  const records: ToolCallRecord[] = [];
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let latencyMs = 0;

  for (let iteration = 1; ; iteration++) {
    if (signal?.aborted) throw abortError(signal);
    if (conversationChars(messages) > budget) {
      const fitted = fitToBudget(messages, budget);
      messages = fitted.messages;
      options.onTruncate?.({
        iteration,
        chars: fitted.chars,
        truncated: fitted.truncated,
        fits: fitted.fits,
      });
    }
    const { tools: _ignored, ...rest } = request;
    const call: ChatRequest = { ...rest, messages, ...(tools.length > 0 ? { tools: [...tools] } : {}) };
    const result = options.retry ? await retryingChat(model, call, options.retry) : await model.chat(call);
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    latencyMs += result.latencyMs;
    const done = (stoppedAtCap: boolean): ToolLoopResult => ({
      final: result,
      iterations: iteration,
      toolCalls: records,
      usage,
      latencyMs,
      stoppedAtCap,
      messages,
    });
    if (result.toolCalls.length === 0) return done(false);
    // issue 6 §3: a hard cap, so a model that never stops calling tools cannot run all night.
    if (iteration >= maxIterations) return done(true);

    // Ollama has no call ids; Anthropic needs each tool_result to name its tool_use. Give every
    // call an id, so both providers pair results with calls the same way.
    const calls = result.toolCalls.map((c, index) => ({ ...c, id: c.id ?? `call_${iteration}_${index}` }));
    messages = [...messages, { role: 'assistant', content: result.text, toolCalls: calls }];
    for (const [index, toolCall] of calls.entries()) {
      if (signal?.aborted) throw abortError(signal);
      const started = performance.now();
      const outcome = await runOne(options, toolCall, { iteration, index }, signal);
      const record: ToolCallRecord = {
        iteration,
        index,
        call: toolCall,
        outcome,
        durationMs: performance.now() - started,
      };
      records.push(record);
      messages = [
        ...messages,
        {
          role: 'tool',
          content: toolMessageContent(outcome),
          toolCallId: toolCall.id,
          toolName: toolCall.name,
        },
      ];
      await options.onToolCall?.(record);
    }
  }
}

async function runOne(
  options: ToolLoopOptions,
  call: ToolCall,
  info: { iteration: number; index: number },
  signal: AbortSignal | undefined,
): Promise<ToolOutcome> {
  try {
    return await options.execute(call, info);
  } catch (error) {
    // The job's own abort (role timeout, shutdown) ends the loop; anything else is the tool's
    // failure, which the model is told about so it can try another way.
    if (signal?.aborted) throw abortError(signal);
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: 'TOOL_FAILED', message } };
  }
}
