// @nightshift/testkit: Redis for tests, fake Ollama and Anthropic servers that speak the real
// HTTP APIs, and polling helpers. Usable outside tests too (the `--sim` mode); no vitest here.
export { defaultReply as defaultAnthropicReply } from './fake-anthropic/messages.js';
export { FakeAnthropic, startFakeAnthropic } from './fake-anthropic/server.js';
export type {
  AnthropicMessage,
  AnthropicRecord,
  AnthropicReply,
  AnthropicReplyError,
  AnthropicRequestInfo,
  AnthropicRule,
  AnthropicToolUse,
  FakeAnthropicOptions,
} from './fake-anthropic/types.js';
export { defaultReply as defaultOllamaReply } from './fake-ollama/responses.js';
export { FakeOllama, OLLAMA_BUSY_MESSAGE, startFakeOllama } from './fake-ollama/server.js';
export type {
  FakeOllamaOptions,
  OllamaChatMessage,
  OllamaRecord,
  OllamaReply,
  OllamaRequestInfo,
  OllamaRule,
  OllamaToolCall,
} from './fake-ollama/types.js';
export {
  type RedisMode,
  type RedisRestartOptions,
  type StartRedisOptions,
  startRedis,
  type TestRedis,
  uniquePrefix,
} from './redis/start.js';
export { extractRole, type MatchableRequest, type RuleMatch, type ScenarioRule } from './scenario.js';
export { freePort, sleep, type WaitForOptions, waitFor } from './wait.js';
