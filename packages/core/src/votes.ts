// A debate vote (issue 8): a structured `{ option, confidence, rationale }` or an abstention.
import { RoleSchema } from '@nightshift/protocol';
import { z } from 'zod';

export const CastVoteSchema = z.object({
  voter: RoleSchema,
  option: z.string().min(1),
  confidence: z.number().min(0).max(1),
  rationale: z.string(),
});
export const AbstentionSchema = z.object({
  voter: RoleSchema,
  abstain: z.literal(true),
  /** Why: the agent chose to, or its reply was missing or malformed. */
  reason: z.string().optional(),
});
export const VoteSchema = z.union([CastVoteSchema, AbstentionSchema]);

export type CastVote = z.infer<typeof CastVoteSchema>;
export type Abstention = z.infer<typeof AbstentionSchema>;
export type Vote = CastVote | Abstention;

export function isAbstention(vote: Vote): vote is Abstention {
  return 'abstain' in vote && vote.abstain === true;
}

const RawVoteSchema = z.object({
  option: z.string().trim().min(1),
  confidence: z.coerce.number().min(0).max(1),
  rationale: z.string().default(''),
});

/**
 * A vote parsed from an agent's reply. A missing or malformed vote is an abstention with the
 * reason, never a crash (issue 8). Options are trimmed and lower-cased so "Revise" = "revise".
 */
export function voteFrom(voter: z.infer<typeof RoleSchema>, raw: unknown): Vote {
  if (raw === undefined || raw === null) return { voter, abstain: true, reason: 'no vote' };
  if (typeof raw === 'object' && 'abstain' in raw && raw.abstain === true) {
    return { voter, abstain: true, reason: 'abstained' };
  }
  const parsed = RawVoteSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(vote)'}: ${i.message}`).join('; ');
    return { voter, abstain: true, reason: `malformed vote: ${why}` };
  }
  return {
    voter,
    option: parsed.data.option.toLowerCase(),
    confidence: parsed.data.confidence,
    rationale: parsed.data.rationale.trim(),
  };
}
