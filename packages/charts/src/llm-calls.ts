// The gateway's per-run LLM call log (`<prefix>:run:<id>:llm`, one `call` field of JSON per entry),
// parsed with a schema: a torn or foreign entry is skipped and counted, never charted as a call.
import { z } from 'zod';

export const LlmCallSchema = z.object({
  role: z.string(),
  /** Epoch milliseconds: queued at the gateway, given a slot, answered. */
  enqueuedAt: z.number().finite(),
  startedAt: z.number().finite(),
  endedAt: z.number().finite(),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
});

export type LlmCall = z.infer<typeof LlmCallSchema>;

/** Entries as ioredis' XRANGE returns them: `[id, [field, value, …]]`. */
export type StreamEntries = readonly (readonly [string, readonly string[]])[];

export function parseLlmCallLog(entries: StreamEntries): { calls: LlmCall[]; skipped: number } {
  const calls: LlmCall[] = [];
  let skipped = 0;
  for (const [, fields] of entries) {
    const at = fields.indexOf('call');
    const parsed = LlmCallSchema.safeParse(at >= 0 ? parseJson(fields[at + 1]) : undefined);
    if (parsed.success) calls.push(parsed.data);
    else skipped++;
  }
  return { calls, skipped };
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
