// The closing lines of a RESPONSE's context: what the tools did, the commit, and the usage line
// the Director parses to account the run's budget (`tokens in (\d+) \/ out (\d+)`, `model (\S+)`).
import type { ToolLoopResult } from '@nightshift/llm';
import { MAX_CONTENT_CHARS } from '@nightshift/protocol';

/** `model qwen3:32b · tokens in 1200 / out 340` — must stay the context's LAST line. */
export function usageLine(model: string, usage: { inputTokens: number; outputTokens: number }): string {
  const name = model.trim().replace(/[\s·]+/g, '_') || 'unknown';
  return `model ${name} · tokens in ${usage.inputTokens} / out ${usage.outputTokens}`;
}

/** `tools: 3 calls (write_file ×2, run_command ×1), 1 refused` or undefined when none ran. */
export function toolsLine(records: ToolLoopResult['toolCalls']): string | undefined {
  if (records.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.call.name, (counts.get(r.call.name) ?? 0) + 1);
  const failed = records.filter((r) => !r.outcome.ok).length;
  const list = [...counts].map(([name, n]) => `${name} ×${n}`).join(', ');
  return `tools: ${records.length} call${records.length === 1 ? '' : 's'} (${list})${failed > 0 ? `, ${failed} failed or refused` : ''}`;
}

export function responseContext(
  replyContext: string | undefined,
  loop: Pick<ToolLoopResult, 'final' | 'usage' | 'toolCalls' | 'iterations'>,
  commit: string | undefined,
  outputLine?: string,
): string {
  const tail = [
    toolsLine(loop.toolCalls),
    commit === undefined ? undefined : `commit ${commit}`,
    outputLine,
    usageLine(loop.final.model, loop.usage),
  ].filter((l): l is string => l !== undefined);
  const tailText = tail.join('\n');
  // The model's own context is clipped, never the lines the Director relies on.
  const room = MAX_CONTENT_CHARS - tailText.length - 20;
  let head = replyContext?.trim() ?? '';
  if (head.length > room) head = `${head.slice(0, Math.max(0, room))}\n[truncated]`;
  return head === '' ? tailText : `${head}\n${tailText}`;
}
