// @nightshift/llm: the ChatModel contract, its providers (Ollama, Anthropic, gateway client,
// simulated), personas, retries and usage accounting. Contract tests: `@nightshift/llm/contract`.
export {
  contextBudgetChars,
  conversationChars,
  DEFAULT_CONTEXT_BUDGET_CHARS,
  estimatePromptTokens,
  type FitOptions,
  type FitResult,
  fitToBudget,
  messageChars,
  SAFE_CHARS_PER_TOKEN,
  type TokenBudgetInput,
  truncationMarker,
} from './context-budget.js';
export * from './errors.js';
export { GatewayChatModel, type GatewayChatModelOptions } from './gateway/client.js';
export {
  assertPriority,
  LLM_JOB_NAME,
  LLM_PRIORITY,
  LLM_QUEUE,
  type LlmJobData,
  LlmJobDataSchema,
  type LlmJobProgress,
  type LlmJobResult,
  MAX_BULLMQ_PRIORITY,
} from './gateway/job.js';
export { createLlmProcessor, type LlmProcessor, type LlmProcessorOptions } from './gateway/processor.js';
export * from './personas/index.js';
export {
  AnthropicChatModel,
  type AnthropicChatModelOptions,
  classifyAnthropicError,
} from './providers/anthropic.js';
export {
  DEFAULT_NUM_CTX,
  DEFAULT_NUM_PREDICT,
  OllamaChatModel,
  type OllamaChatModelOptions,
  type ThinkSetting,
  thinkSetting,
} from './providers/ollama.js';
export { classifyOllamaError } from './providers/ollama-errors.js';
export { promptMayBeCut, splitThinking } from './providers/ollama-reply.js';
export { parseTextToolCalls, type TextToolCalls } from './providers/text-tool-calls.js';
export { backoffDelay, type RetryOptions, retryingChat } from './retry.js';
export {
  InstantChatModel,
  ScriptedChatModel,
  type ScriptedChatModelOptions,
  type ScriptedReply,
} from './simulated.js';
export {
  DEFAULT_MAX_TOOL_ITERATIONS,
  runToolLoop,
  type ToolCallRecord,
  type ToolLoopOptions,
  type ToolLoopResult,
  type ToolOutcome,
  toolMessageContent,
} from './tool-loop.js';
export * from './types.js';
export { UsageRecorder, type UsageSnapshot, type UsageTotals, withUsage } from './usage.js';
