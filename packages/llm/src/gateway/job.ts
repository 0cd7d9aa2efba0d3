// The wire contract of queue `llm`: what a caller puts in a job, what the gateway returns, and
// the BullMQ priority of each caller (guide §7 "Agent-Specific Settings": Director highest … Scribe low).
import { ROLES } from '@nightshift/protocol';
import { z } from 'zod';
import type { LlmCaller, ProviderName, ToolCall, Usage } from '../types.js';

/** Must equal `QUEUE_NAMES.llm` of @nightshift/redis (llm may not import redis: ARCHITECTURE §4). */
export const LLM_QUEUE = 'llm';
export const LLM_JOB_NAME = 'chat';

/** BullMQ's highest priority number; 1 runs first (REFERENCE: priorities). */
export const MAX_BULLMQ_PRIORITY = 2_097_152;

/**
 * Default priority of each caller on `llm` (guide §7): Director 1, Architect 2, the four
 * "Normal" roles 3, Scribe 4. The runtime's own calls ride at Normal. Never 0: an unprioritised
 * job would jump ahead of every prioritised one (REFERENCE).
 */
export const LLM_PRIORITY: Readonly<Record<LlmCaller, number>> = Object.freeze({
  director: 1,
  architect: 2,
  scout: 3,
  builder: 3,
  refactorer: 3,
  inspector: 3,
  scribe: 4,
  system: 3,
});

const ToolCallSchema = z.object({
  id: z.string().optional(),
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()),
});

const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  toolCalls: z.array(ToolCallSchema).optional(),
  toolCallId: z.string().optional(),
  toolName: z.string().optional(),
});

const ToolSpecSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  // Loose: other JSON Schema keywords (additionalProperties, $defs…) must reach the model intact.
  parameters: z.looseObject({
    type: z.literal('object'),
    properties: z.record(z.string(), z.unknown()),
    required: z.array(z.string()).optional(),
  }),
});

export const LlmJobDataSchema = z.object({
  v: z.literal(1),
  role: z.enum([...ROLES, 'system']),
  runId: z.string().optional(),
  messages: z.array(ChatMessageSchema).min(1),
  tools: z.array(ToolSpecSchema).optional(),
  /** A JSON Schema the answer must follow (ChatRequest.format). */
  format: z.record(z.string(), z.unknown()).optional(),
  /** The caller listens for progress: the gateway streams from Ollama and reports it. */
  stream: z.boolean(),
  /** Epoch ms after which nobody waits for the answer: the gateway skips or aborts the call. */
  deadline: z.number().int().positive(),
  enqueuedAt: z.number().int().positive(),
});
export type LlmJobData = z.infer<typeof LlmJobDataSchema>;

/** What the gateway job returns (BullMQ stores it as JSON). */
export interface LlmJobResult {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  model: string;
  provider: ProviderName;
  /** Time the provider call took inside the gateway. */
  serviceMs: number;
  /** Time from enqueue to the gateway starting the call (the limiter's queueing). */
  waitedMs: number;
  /** Tool calls the model wrote as text (recognised and returned in toolCalls). */
  textToolCalls?: number;
  /** The prompt may have been cut to fit the context window. */
  promptCut?: boolean;
  /** Characters of reasoning the model produced (the text itself stays in the gateway). */
  thinkingChars?: number;
  /**
   * The reasoning itself, only when OLLAMA_THINKING_TRACE_CHARS asks for it (cut at that length):
   * for the run's call log, never for a parser — the caller's answer is `text` alone.
   */
  thinking?: string;
}

/** Streamed progress as published with `job.updateProgress`. */
export interface LlmJobProgress {
  text: string;
  chunks: number;
}

export function isLlmJobProgress(value: unknown): value is LlmJobProgress {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.text === 'string' && typeof v.chunks === 'number';
}

export function assertPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < 1 || priority > MAX_BULLMQ_PRIORITY) {
    throw new RangeError(
      `LLM priority must be an integer from 1 to ${MAX_BULLMQ_PRIORITY} (got ${priority}); 0 would jump the line`,
    );
  }
  return priority;
}
