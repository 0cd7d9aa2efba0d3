// The role output schemas at the answering end (issue 5): a REQUEST that names an `output`
// (design, changes, findings) gets a reply checked against it. A reply that fails is sent back to
// the model once with the error; if the second reply fails too the caller raises an ALERT instead
// of answering with something the Director cannot use.
import { type ChatMessage, readModelReply, type ToolLoopResult } from '@nightshift/llm';
import {
  ChangesOutputSchema,
  describeProblems,
  OUTPUT_INSTRUCTIONS,
  type OutputKind,
  problemsFrom,
  readOutput,
} from '@nightshift/protocol';

export type OutputVerdict =
  | { ok: true /** A context line to add (the changed files), if any. */; line?: string }
  | { ok: false; error: string };

/** Checks one reply against `kind`; `written` are the paths the role's tools really wrote. */
export function checkOutput(kind: OutputKind, text: string, written: readonly string[]): OutputVerdict {
  if (kind === 'changes') {
    const content = readModelReply(text).content;
    const summary = content === '(empty answer)' ? '' : content;
    const parsed = ChangesOutputSchema.safeParse({ summary, files: [...written] });
    if (!parsed.success) {
      return { ok: false, error: describeProblems(problemsFrom(parsed.error)) };
    }
    const files = parsed.data.files;
    return { ok: true, line: `changed files: ${files.length > 0 ? files.join(', ') : 'none'}` };
  }
  const read = readOutput(kind, text);
  return read.ok ? { ok: true } : { ok: false, error: read.error };
}

/** The follow-up message that hands a failed reply back to the model with what was wrong. */
export function correction(kind: OutputKind, error: string): string {
  return `Your answer does not have the required ${kind} output: ${error}. ${OUTPUT_INSTRUCTIONS[kind]} Answer again in full, in the same message format.`;
}

export interface EnforcedOutput {
  /** The loop whose final reply is used: the first, or the first and the second merged. */
  loop: ToolLoopResult;
  verdict: OutputVerdict;
  /** True when the model was asked a second time. */
  retried: boolean;
}

/**
 * Checks the loop's final reply; on failure asks `again` (one model call, no tools) with the
 * conversation plus the correction, and checks that. Usage and latency of both are summed.
 */
export async function enforceOutput(
  kind: OutputKind,
  loop: ToolLoopResult,
  written: readonly string[],
  again: (messages: ChatMessage[]) => Promise<ToolLoopResult>,
): Promise<EnforcedOutput> {
  const first = checkOutput(kind, loop.final.text, written);
  if (first.ok) return { loop, verdict: first, retried: false };
  const second = await again([
    ...loop.messages,
    { role: 'assistant', content: loop.final.text },
    { role: 'user', content: correction(kind, first.error) },
  ]);
  const merged: ToolLoopResult = {
    ...second,
    iterations: loop.iterations + second.iterations,
    toolCalls: [...loop.toolCalls, ...second.toolCalls],
    usage: {
      inputTokens: loop.usage.inputTokens + second.usage.inputTokens,
      outputTokens: loop.usage.outputTokens + second.usage.outputTokens,
    },
    latencyMs: loop.latencyMs + second.latencyMs,
  };
  const verdict = checkOutput(kind, second.final.text, written);
  return {
    loop: merged,
    verdict: verdict.ok
      ? verdict
      : { ok: false, error: `${verdict.error} (asked twice; first: ${first.error})` },
    retried: true,
  };
}
