// What an Ollama reply says beyond its text: thinking kept apart from the answer, whether the
// prompt may have been cut to fit `num_ctx`, and whether the answer stopped at `num_predict`.
import { estimatePromptTokens } from '../context-budget.js';
import type { ChatMessage, ToolSpec } from '../types.js';

const THINK_BLOCK = /<think>([\s\S]*?)<\/think>/g;

/**
 * qwen3 and other thinking models put their reasoning in `message.thinking` when the request
 * sets `think`, and inline as `<think>…</think>` when it does not (or on older servers). Either
 * way the reasoning never reaches a parser: it is returned apart from the answer.
 */
export function splitThinking(
  content: string,
  thinking: string | undefined,
): { text: string; thinking: string } {
  const inline: string[] = [];
  const text = content.replace(THINK_BLOCK, (_whole, inner: string) => {
    inline.push(inner.trim());
    return '';
  });
  // An unclosed <think> (the answer was cut mid-thought) is all thinking, no answer.
  const open = text.indexOf('<think>');
  const answer = open >= 0 ? text.slice(0, open) : text;
  if (open >= 0) inline.push(text.slice(open + '<think>'.length).trim());
  const all = [thinking ?? '', ...inline].filter((t) => t !== '').join('\n');
  return { text: answer.trim(), thinking: all };
}

/**
 * Ollama silently drops the start of a prompt longer than `num_ctx` (the system prompt first) and
 * only logs `truncating input prompt` on the server. Two signs that it happened: the server
 * evaluated (nearly) a whole window of prompt tokens, or our safe-side estimate of the prompt is
 * already larger than the window. (A prompt served partly from Ollama's cache reports fewer
 * evaluated tokens, which is why the estimate is checked too.)
 */
export function promptMayBeCut(input: {
  promptEvalCount: number;
  numCtx: number;
  messages: readonly ChatMessage[];
  tools?: readonly ToolSpec[] | undefined;
}): boolean {
  if (input.promptEvalCount >= input.numCtx - 8) return true;
  return estimatePromptTokens(input.messages, input.tools) > input.numCtx;
}

/** Room for one retry of a length-cut answer: twice the limit, bounded by what the window has left. */
export function retryNumPredict(
  numPredict: number,
  numCtx: number,
  promptTokens: number,
): number | undefined {
  const room = numCtx - promptTokens;
  const next = Math.min(numPredict * 2, room);
  return next > numPredict ? next : undefined;
}
