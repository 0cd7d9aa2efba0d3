// The P3 "Director verify" step: the Director's verdict, the review debate around it, trust
// moving with the outcome, and everything recorded (events + decisions.md). Returns the events
// for the driver to append in one guarded write.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  adjustTrust,
  type DecideCommand,
  type Decision,
  type RunEventDraft,
  type RunState,
  type TrustOutcome,
  trustChanged,
  type Vote,
} from '@nightshift/core';
import type { Role } from '@nightshift/protocol';
import type { Logger } from '@nightshift/runtime';
import type { BrainAnswer, DirectorBrain } from './brain.js';
import type { ReviewDebate } from './debate.js';
import { DIRECTOR_SYSTEM, verifyPrompt } from './prompts.js';
import { parseVerdict, safeDefault, type Verdict } from './verdict.js';

export interface VerifierOptions {
  brain: DirectorBrain;
  /** Absent: the Director decides alone (no debate). */
  debate?: ReviewDebate | undefined;
  logger: Logger;
  maxIterations: number;
  /** Deployment-wide trust (`<prefix>:trust`), written when a run's trust changes. */
  saveTrust?: (role: Role, score: number) => Promise<void>;
  memoryDir?: string | undefined;
  costOf: (
    model: string,
    usage: {
      inputTokens: number;
      outputTokens: number;
      cacheReadTokens?: number | undefined;
      cacheWriteTokens?: number | undefined;
    },
  ) => number;
  now?: () => Date;
}

export interface VerifyResult {
  drafts: RunEventDraft[];
  decision: Decision;
  rationale: string;
  rule: string;
  answer: BrainAnswer;
}

/** What the verdict's model calls cost, the prompt-cache share included. */
interface Spent {
  tokens: number;
  usd: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export class Verifier {
  readonly #o: VerifierOptions;
  constructor(options: VerifierOptions) {
    this.#o = options;
  }

  /** One verdict from the Director's model, retried once with the parse error, else the safe default. */
  async #verdict(c: DecideCommand, previous: readonly Vote[], spent: Spent) {
    const base = verifyPrompt(c.context, this.#o.maxIterations);
    const prompt = previous.length
      ? `${base}\n\nThe team's votes so far:\n${previous.map((v) => ('abstain' in v ? `- ${v.voter}: abstained` : `- ${v.voter}: ${v.option} — ${v.rationale}`)).join('\n')}`
      : base;
    let answer = await this.#o.brain.ask(DIRECTOR_SYSTEM, prompt, c.context.runId);
    const charge = (a: BrainAnswer) => {
      spent.tokens += a.usage.inputTokens + a.usage.outputTokens;
      spent.cacheReadTokens += a.usage.cacheReadTokens ?? 0;
      spent.cacheWriteTokens += a.usage.cacheWriteTokens ?? 0;
      spent.usd += this.#o.costOf(a.model, a.usage);
    };
    charge(answer);
    let parsed = parseVerdict(answer.text);
    if (!parsed.ok) {
      this.#o.logger.warn(
        { runId: c.context.runId, error: parsed.error },
        'unusable verdict; asking once more',
      );
      answer = await this.#o.brain.ask(
        DIRECTOR_SYSTEM,
        `${prompt}\n\nYour previous answer could not be used (${parsed.error}). Answer with only the JSON object.`,
        c.context.runId,
      );
      charge(answer);
      parsed = parseVerdict(answer.text);
    }
    const critical = c.context.findings.filter((f) => f.severity === 'critical').length;
    const verdict: Verdict = parsed.ok ? parsed.verdict : safeDefault(critical);
    return { verdict, answer, usable: parsed.ok };
  }

  async verify(state: RunState, c: DecideCommand): Promise<VerifyResult> {
    const spent: Spent = { tokens: 0, usd: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    let last = await this.#verdict(c, [], spent);
    let decision: Decision = last.verdict.decision;
    let rationale = last.verdict.rationale;
    let rule = last.usable ? 'director' : 'safe-default';
    let votes: Vote[] | undefined;
    let weights: Partial<Record<Role, number>> | undefined;
    const debatable =
      this.#o.debate && (decision === 'finish' || decision === 'revise' || decision === 'escalate');
    if (debatable && this.#o.debate) {
      let firstRound = true;
      const outcome = await this.#o.debate.run(
        c.context,
        Math.random().toString(36).slice(2, 8),
        async (_round, previous) => {
          if (!firstRound) last = await this.#verdict(c, previous, spent);
          firstRound = false;
          return {
            voter: 'director',
            option: last.verdict.decision,
            confidence: 0.9,
            rationale: last.verdict.rationale,
          };
        },
      );
      const result = outcome.result;
      votes = outcome.rounds.at(-1);
      weights = Object.fromEntries(
        (votes ?? []).map((v) => [v.voter, c.context.trust[v.voter] ?? 7] as const),
      ) as Partial<Record<Role, number>>;
      rule = result.rule;
      if (result.directorDecides || result.decision === null) {
        decision = last.verdict.decision;
        rationale = `${last.verdict.rationale} (the Director decides${result.note ? `: ${result.note}` : ''})`;
      } else {
        decision = result.decision as Decision;
        rationale = result.note
          ? `${result.note}. Director: ${last.verdict.rationale}`
          : last.verdict.rationale;
      }
    }
    const fallbackNote = last.answer.fallback
      ? ` [fallback model ${last.answer.model}: ${last.answer.fallbackReason ?? 'primary unavailable'}]`
      : '';
    const drafts: RunEventDraft[] = [
      {
        type: 'budget.used',
        tokens: spent.tokens,
        usd: spent.usd,
        model: last.answer.model,
        ...(spent.cacheReadTokens > 0 ? { cacheReadTokens: spent.cacheReadTokens } : {}),
        ...(spent.cacheWriteTokens > 0 ? { cacheWriteTokens: spent.cacheWriteTokens } : {}),
      },
      {
        type: 'decision.made',
        decision,
        by: 'director',
        rationale: rationale + fallbackNote,
        step: 'verify',
        model: last.answer.model,
        fallback: last.answer.fallback,
        rule,
        ...(votes ? { votes } : {}),
        ...(weights ? { weights } : {}),
      },
      ...this.#trustChanges(state, c, decision),
    ];
    await this.#log(c, decision, rule, rationale + fallbackNote, votes, weights, drafts);
    return { drafts, decision, rationale, rule, answer: last.answer };
  }

  /** guide §5 example: a critical bug in the Builder's work costs it 2; accepted work earns 1. */
  #trustChanges(state: RunState, c: DecideCommand, decision: Decision): RunEventDraft[] {
    const out: RunEventDraft[] = [];
    const critical = c.context.findings.filter((f) => f.severity === 'critical' && f.from === 'inspector');
    let builder = state.trust.builder ?? 7;
    for (const finding of critical) {
      const adj = adjustTrust(
        builder,
        'critical-bug-in-own-work' as TrustOutcome,
        undefined,
        finding.description,
      );
      builder = adj.to;
      out.push(trustChanged('builder', adj, finding.messageId));
    }
    if (decision === 'finish' && critical.length === 0) {
      const adj = adjustTrust(
        builder,
        'accepted-work' as TrustOutcome,
        undefined,
        `iteration ${c.iteration} accepted`,
      );
      out.push(trustChanged('builder', adj));
    }
    return out;
  }

  /** One line per decision in MEMORY_DIR/<runId>/decisions.md (issue 8 decision log). */
  async #log(
    c: DecideCommand,
    decision: Decision,
    rule: string,
    rationale: string,
    votes: Vote[] | undefined,
    weights: Partial<Record<Role, number>> | undefined,
    drafts: RunEventDraft[],
  ): Promise<void> {
    if (!this.#o.memoryDir) return;
    const dir = join(this.#o.memoryDir, c.context.runId);
    const at = (this.#o.now?.() ?? new Date()).toISOString();
    const voteText = (votes ?? [])
      .map((v) =>
        'abstain' in v
          ? `${v.voter}: abstained`
          : `${v.voter}: ${v.option} (${v.confidence}, trust ${weights?.[v.voter] ?? 7})`,
      )
      .join('; ');
    const trust = drafts
      .filter((d): d is Extract<RunEventDraft, { type: 'trust.changed' }> => d.type === 'trust.changed')
      .map((d) => `${d.role} ${d.from}→${d.to} (${d.delta > 0 ? '+' : ''}${d.delta}: ${d.reason})`)
      .join('; ');
    const line = `- ${at} · iteration ${c.iteration} · **${decision.toUpperCase()}** · rule: ${rule}${voteText ? ` · votes: ${voteText}` : ''}${trust ? ` · trust: ${trust}` : ''} — ${rationale.replace(/\n/g, ' ')}\n`;
    try {
      await mkdir(dir, { recursive: true });
      await appendFile(join(dir, 'decisions.md'), line, 'utf8');
    } catch (error) {
      // The events are the record; the file is a view of them. Say so and go on.
      this.#o.logger.warn({ err: error, runId: c.context.runId }, 'could not write decisions.md');
    }
  }

  async saveTrust(drafts: readonly RunEventDraft[]): Promise<void> {
    for (const d of drafts) if (d.type === 'trust.changed') await this.#o.saveTrust?.(d.role, d.to);
  }
}
