// When a review debate stops and with what decision (guide §6 "Convergence Rules", issue 8).
//
// Rules, checked in the guide's order; the first that holds fires:
//   unanimous            every voter present voted, all for one option            → that option
//   supermajority        ≥ ceil(present × 5/7) voters for one option (abstainers count as present,
//                        so an abstention never helps a side)                     → that option, dissent noted
//   trust-weighted       the leading option holds > 0.7 of the trust weight       → that option, dissent noted
//   max-rounds           round ≥ 3 without the above                              → null: the Director decides, controversy noted
//   stable               positions (and so the leader) identical to the previous round → the current leader
//   diminishing-returns  no new argument: the share of rationales not heard in an earlier round ≤ minChange (0)
//                                                                                 → the current leader
//   continue             none of the above: debate another round
// Weight of a vote = the voter's trust × its confidence: a hesitant vote counts less, and
// an abstention weighs nothing. The "leader" is the option with the most weight, then votes; a
// tie for the lead under stable/diminishing-returns also hands the decision to the Director.

import { type Role, ValidationError } from '@nightshift/protocol';
import { z } from 'zod';
import { deepFreeze } from './freeze.js';
import { DEFAULT_START_TRUST } from './trust.js';
import { type CastVote, isAbstention, type Vote, VoteSchema } from './votes.js';

/** Trust per voter; a voter missing here weighs `defaultTrust` (a run's `state.trust` fits as is). */
export type TrustTable = Readonly<Partial<Record<string, number>>>;

export interface ConvergenceConfig {
  /** guide §3 "MAX ROUNDS: 3 (force decision after 3)". */
  readonly maxRounds: number;
  /** guide §6 rule 2: 5 of 7 agents agree. */
  readonly supermajority: { readonly agree: number; readonly of: number };
  /** guide §6 pseudocode: trust_weighted_majority > 0.7. */
  readonly weightedThreshold: number;
  /** Share of new rationales at or below which a round adds nothing (guide §6 rule 5). */
  readonly minChange: number;
  /** Trust of a voter missing from the trust table (the guide's start value). */
  readonly defaultTrust: number;
}
export const DEFAULT_CONVERGENCE: ConvergenceConfig = deepFreeze({
  maxRounds: 3,
  supermajority: { agree: 5, of: 7 },
  weightedThreshold: 0.7,
  minChange: 0,
  defaultTrust: DEFAULT_START_TRUST,
});

export type ConvergenceRule =
  | 'unanimous'
  | 'supermajority'
  | 'trust-weighted'
  | 'max-rounds'
  | 'stable'
  | 'diminishing-returns'
  | 'continue';

export interface ConvergenceResult {
  readonly converged: boolean;
  /** The agreed option; null while continuing, and when the Director must decide. */
  readonly decision: string | null;
  readonly directorDecides: boolean;
  readonly rule: ConvergenceRule;
  readonly round: number;
  /** Option with the most trust weight (then votes); null when none or tied. */
  readonly leading: string | null;
  /** Votes per option. */
  readonly tally: Readonly<Record<string, number>>;
  /** Summed trust × confidence per option. */
  readonly weights: Readonly<Record<string, number>>;
  /** The leader's share of all cast weight (0 when nothing was cast). */
  readonly share: number;
  /** Votes one option needs for a supermajority with the voters present. */
  readonly needed: number;
  /** Voters not behind the decision (or the leader, when there is no decision). */
  readonly dissent: readonly Role[];
  readonly abstained: readonly Role[];
  /** The dissent or controversy in words, for the decision log. */
  readonly note: string;
}

interface Count {
  readonly option: string;
  readonly votes: number;
  readonly weight: number;
}

/** Votes needed for a supermajority among `present` voters: 5 of 7 scaled, ceil(present × 5/7). */
export function supermajorityNeeded(
  present: number,
  cfg: Pick<ConvergenceConfig, 'supermajority'> = DEFAULT_CONVERGENCE,
): number {
  return Math.ceil((present * cfg.supermajority.agree) / cfg.supermajority.of);
}

export function converged(
  votes: readonly Vote[],
  trust: TrustTable,
  round: number,
  history: readonly (readonly Vote[])[] = [],
  cfg: ConvergenceConfig = DEFAULT_CONVERGENCE,
): ConvergenceResult {
  if (!Number.isInteger(round) || round < 1) {
    throw new ValidationError('convergence round', [
      { path: 'round', expected: 'an integer >= 1', received: String(round) },
    ]);
  }
  const current = checkVotes(votes, 'votes');
  const previous = history.map((r, i) => checkVotes(r, `history.${i}`));
  const cast = current.filter((v): v is CastVote => !isAbstention(v));
  const abstained = current.filter(isAbstention).map((v) => v.voter);
  const counts = countVotes(cast, trust, cfg.defaultTrust);
  const totalWeight = counts.reduce((sum, c) => sum + c.weight, 0);
  const top = counts[0];
  const second = counts[1];
  const tied =
    top !== undefined && second !== undefined && top.weight === second.weight && top.votes === second.votes;
  const leading = top === undefined || tied ? null : top.option;
  const share = top === undefined || totalWeight === 0 ? 0 : top.weight / totalWeight;
  const needed = supermajorityNeeded(current.length, cfg);
  const result = (rule: ConvergenceRule, decision: string | null, note = ''): ConvergenceResult => {
    const side = decision ?? leading;
    const dissent = cast.filter((v) => v.option !== side).map((v) => v.voter);
    return {
      converged: rule !== 'continue',
      decision,
      directorDecides: rule !== 'continue' && decision === null,
      rule,
      round,
      leading,
      tally: Object.fromEntries(counts.map((c) => [c.option, c.votes])),
      weights: Object.fromEntries(counts.map((c) => [c.option, c.weight])),
      share,
      needed,
      dissent,
      abstained,
      note: note || (dissent.length > 0 ? `dissent: ${dissent.join(', ')}` : ''),
    };
  };

  if (top && abstained.length === 0 && counts.length === 1) return result('unanimous', top.option);
  const byVotes = [...counts].sort(
    (a, b) => b.votes - a.votes || b.weight - a.weight || a.option.localeCompare(b.option),
  );
  const most = byVotes[0];
  if (most && most.votes >= needed && (byVotes[1]?.votes ?? 0) < most.votes)
    return result('supermajority', most.option);
  if (leading !== null && share > cfg.weightedThreshold) return result('trust-weighted', leading);
  if (round >= cfg.maxRounds) {
    const split = counts
      .map((c) => `${c.option} ${c.votes} (${(c.weight / (totalWeight || 1)).toFixed(2)})`)
      .join(', ');
    return result(
      'max-rounds',
      null,
      `no convergence after ${round} rounds: ${split || 'no votes'}; the Director decides`,
    );
  }
  const last = previous.at(-1);
  if (last !== undefined && current.length > 0) {
    const lastCast = last.filter((v): v is CastVote => !isAbstention(v));
    const lastLeader = countVotes(lastCast, trust, cfg.defaultTrust)[0]?.option ?? null;
    if (samePositions(last, current) && lastLeader === top?.option) {
      return result('stable', leading, leaderNote(leading, 'stable'));
    }
    if (newArgumentShare(current, previous) <= cfg.minChange) {
      return result('diminishing-returns', leading, leaderNote(leading, 'no new arguments'));
    }
  }
  return result('continue', null);
}

function leaderNote(leading: string | null, why: string): string {
  return leading === null ? `${why}, but the lead is tied; the Director decides` : '';
}

/**
 * 1 − the leading option's share of trust weight: 0 when all weight is behind one option.
 * The conflict rule of detection compares this with its threshold (guide §4.2).
 */
export function disagreement(
  votes: readonly Vote[],
  trust: TrustTable,
  defaultTrust = DEFAULT_START_TRUST,
): number {
  const cast = checkVotes(votes, 'votes').filter((v): v is CastVote => !isAbstention(v));
  const counts = countVotes(cast, trust, defaultTrust);
  const total = counts.reduce((sum, c) => sum + c.weight, 0);
  return total === 0 || counts[0] === undefined ? 0 : 1 - counts[0].weight / total;
}

const VotesSchema = z.array(VoteSchema);

/** Validated and sorted by voter, so every sum runs in one order (order-invariant floats). */
function checkVotes(votes: readonly Vote[], what: string): Vote[] {
  const parsed = VotesSchema.safeParse(votes);
  if (!parsed.success) {
    throw new ValidationError(
      what,
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), expected: i.message })),
    );
  }
  const sorted = [...parsed.data].sort((a, b) => a.voter.localeCompare(b.voter));
  const dup = sorted.find((v, i) => i > 0 && sorted[i - 1]?.voter === v.voter);
  if (dup)
    throw new ValidationError(what, [{ path: 'voter', expected: 'one vote per voter', received: dup.voter }]);
  return sorted;
}

/** Options by weight, then votes, then name (deterministic whatever the input order). */
function countVotes(cast: readonly CastVote[], trust: TrustTable, defaultTrust: number): Count[] {
  const map = new Map<string, { votes: number; weight: number }>();
  for (const v of cast) {
    const t = (Object.hasOwn(trust, v.voter) ? trust[v.voter] : undefined) ?? defaultTrust;
    const entry = map.get(v.option) ?? { votes: 0, weight: 0 };
    map.set(v.option, { votes: entry.votes + 1, weight: entry.weight + t * v.confidence });
  }
  return [...map.entries()]
    .map(([option, c]) => ({ option, ...c }))
    .sort((a, b) => b.weight - a.weight || b.votes - a.votes || a.option.localeCompare(b.option));
}

function position(v: Vote): string {
  return isAbstention(v) ? '\u0000abstain' : v.option;
}

/** guide §6 rule 4: no agent changed position (same voters, same options). */
function samePositions(before: readonly Vote[], now: readonly Vote[]): boolean {
  if (before.length !== now.length) return false;
  const was = new Map(before.map((v) => [v.voter, position(v)]));
  return now.every((v) => was.get(v.voter) === position(v));
}

function normalise(rationale: string): string {
  return rationale.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** guide §6 rule 5: share of this round's rationales never heard in an earlier round. */
function newArgumentShare(now: readonly Vote[], earlier: readonly (readonly Vote[])[]): number {
  const heard = new Set<string>();
  for (const round of earlier) for (const v of round) if (!isAbstention(v)) heard.add(normalise(v.rationale));
  const said = now
    .filter((v): v is CastVote => !isAbstention(v))
    .map((v) => normalise(v.rationale))
    .filter((r) => r !== '');
  if (said.length === 0) return 0;
  return said.filter((r) => !heard.has(r)).length / said.length;
}
