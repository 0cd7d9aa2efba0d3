// Parses the Director's verdict from a model reply. The model is asked for one JSON object;
// a reply without a usable one is retried once with the parse error, then the guide's safe
// default applies (guide §10 "Director can force-proceed decisions"), never a crash.
import type { Decision } from '@nightshift/core';
import { lastJsonMatching } from '@nightshift/protocol';
import { z } from 'zod';

export const VerdictSchema = z.object({
  decision: z.enum(['continue', 'revise', 'finish', 'escalate', 'abort']),
  rationale: z.string().min(1).max(4000),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export type VerdictParse = { ok: true; verdict: Verdict } | { ok: false; error: string };

/** Finds the last JSON object in the text (fenced or bare) that matches the verdict schema. */
export function parseVerdict(text: string): VerdictParse {
  // The decision is read case-insensitively ("Revise" is revise).
  const read = lastJsonMatching(
    text,
    z.preprocess(normalise, VerdictSchema),
    '{"decision": …, "rationale": …}',
  );
  return read.ok ? { ok: true, verdict: read.value } : { ok: false, error: read.error };
}

function normalise(value: unknown): unknown {
  if (value && typeof value === 'object' && 'decision' in value) {
    const v = value as Record<string, unknown>;
    if (typeof v.decision === 'string') return { ...v, decision: v.decision.trim().toLowerCase() };
  }
  return value;
}

/**
 * The safe default when the Director cannot produce a verdict: with critical findings open,
 * a human must look (escalate); otherwise force-proceed (finish what was reviewed clean).
 */
export function safeDefault(criticalFindings: number): { decision: Decision; rationale: string } {
  return criticalFindings > 0
    ? {
        decision: 'escalate',
        rationale: `no usable verdict from the Director's model and ${criticalFindings} critical finding(s) open: a human must decide`,
      }
    : {
        decision: 'finish',
        rationale: "no usable verdict from the Director's model; no critical findings: force-proceed",
      };
}
