// Parses the Director's verdict from a model reply. The model is asked for one JSON object;
// a reply without a usable one is retried once with the parse error, then the guide's safe
// default applies (guide §10 "Director can force-proceed decisions"), never a crash.
import type { Decision } from '@nightshift/core';
import { jsonCandidates } from '@nightshift/protocol';
import { z } from 'zod';

export const VerdictSchema = z.object({
  decision: z.enum(['continue', 'revise', 'finish', 'escalate', 'abort']),
  rationale: z.string().min(1).max(4000),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export type VerdictParse = { ok: true; verdict: Verdict } | { ok: false; error: string };

/** Finds the last JSON object in the text (fenced or bare) that matches the verdict schema. */
export function parseVerdict(text: string): VerdictParse {
  const candidates = jsonCandidates(text);
  if (candidates.length === 0) return { ok: false, error: 'no JSON object found in the reply' };
  let lastError = '';
  for (const candidate of candidates.reverse()) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch (error) {
      lastError = `invalid JSON: ${(error as Error).message}`;
      continue;
    }
    const parsed = VerdictSchema.safeParse(normalise(value));
    if (parsed.success) return { ok: true, verdict: parsed.data };
    lastError = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  }
  return { ok: false, error: lastError };
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
