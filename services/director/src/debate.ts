// The review debate of P3 (guide §3 "Review Sessions", §6 "Convergence Rules", issue 8):
// round 1 present, round 2 critique, round 3 decide — each round a vote REQUEST to the review
// roles on the bus, votes parsed into `{ option, confidence, rationale }` (a missing or
// malformed vote is an abstention), and core's `converged()` deciding when to stop. After
// `maxRounds` without convergence the Director decides alone (never a 4th round).
import {
  type ConvergenceConfig,
  type ConvergenceResult,
  converged,
  DEFAULT_CONVERGENCE,
  type StepContext,
  type Vote,
  voteFrom,
} from '@nightshift/core';
import { jsonCandidates, type Message, type Role } from '@nightshift/protocol';
import type { Bus } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';

export const DEBATE_OPTIONS = ['finish', 'revise', 'escalate'] as const;
/** Who votes on a review besides the Director (guide §3: Builder presents, Inspector and Refactorer critique, Architect checks alignment). */
export const VOTERS: readonly Role[] = ['builder', 'refactorer', 'inspector', 'architect'];

/** Waits for the RESPONSE to a request id; resolved by the Director's inbox handler. */
export interface ResponseAwaiter {
  wait(requestId: string, timeoutMs: number): Promise<Message | undefined>;
}

export interface DebateOptions {
  bus: Pick<Bus, 'publish'>;
  awaiter: ResponseAwaiter;
  logger: Logger;
  config?: Partial<ConvergenceConfig>;
  voteTimeoutMs?: number;
  now?: () => Date;
}

export interface DebateOutcome {
  result: ConvergenceResult;
  rounds: Vote[][];
}

/** Parses a vote from a reply: the last JSON object with an `option` (else an abstention with the reason). */
export function parseVote(voter: Role, reply: Message | undefined): Vote {
  if (!reply) return voteFrom(voter, undefined);
  for (const candidate of jsonCandidates(reply.content).reverse()) {
    try {
      const value = JSON.parse(candidate) as unknown;
      if (value && typeof value === 'object' && 'option' in value) return voteFrom(voter, value);
    } catch {
      // not JSON: try the next candidate; none left means an abstention below
    }
  }
  return voteFrom(voter, { malformed: reply.content.slice(0, 200) });
}

function describeVotes(votes: readonly Vote[]): string {
  return votes
    .map((v) =>
      'abstain' in v
        ? `- ${v.voter}: abstained`
        : `- ${v.voter}: ${v.option} (${v.confidence}) — ${v.rationale}`,
    )
    .join('\n');
}

export class ReviewDebate {
  readonly #o: DebateOptions;
  readonly #cfg: ConvergenceConfig;
  /** Vote requests sent and not yet answered or timed out (re-sent after a Redis reconnect). */
  readonly #pending = new Map<string, Message>();

  constructor(options: DebateOptions) {
    this.#o = options;
    this.#cfg = { ...DEFAULT_CONVERGENCE, ...options.config };
  }

  /**
   * Runs rounds until `converged()` stops them. `directorVote` is the Director's own verdict for
   * a round (it takes part as a voter; its weight is its trust, default 7).
   */
  async run(
    ctx: StepContext,
    nonce: string,
    directorVote: (round: number, previous: readonly Vote[]) => Promise<Vote>,
  ): Promise<DebateOutcome> {
    const history: Vote[][] = [];
    for (let round = 1; round <= this.#cfg.maxRounds; round++) {
      const previous = history.at(-1) ?? [];
      const ids = VOTERS.map((voter) =>
        `vote_${ctx.runId}_i${ctx.iteration}_r${round}_${voter}_${nonce}`.slice(0, 128),
      );
      await Promise.all(VOTERS.map((voter, i) => this.#ask(ctx, voter, ids[i] as string, round, previous)));
      const [director, ...replies] = await Promise.all([
        directorVote(round, previous),
        ...ids.map((id) =>
          this.#o.awaiter.wait(id, this.#o.voteTimeoutMs ?? 120_000).finally(() => this.#pending.delete(id)),
        ),
      ]);
      const votes: Vote[] = [director, ...VOTERS.map((voter, i) => parseVote(voter, replies[i]))];
      const result = converged(votes, ctx.trust, round, history, this.#cfg);
      history.push(votes);
      this.#o.logger.info(
        { runId: ctx.runId, round, rule: result.rule, decision: result.decision, share: result.share },
        'debate round',
      );
      if (result.converged || result.directorDecides) return { result, rounds: history };
    }
    // converged() never continues at maxRounds; this is only reached with maxRounds < 1.
    const last = history.at(-1) ?? [];
    return { result: converged(last, ctx.trust, this.#cfg.maxRounds, history, this.#cfg), rounds: history };
  }

  async #ask(
    ctx: StepContext,
    voter: Role,
    id: string,
    round: number,
    previous: readonly Vote[],
  ): Promise<void> {
    const stage = round === 1 ? 'present' : round === 2 ? 'critique' : 'decide';
    const findings = ctx.findings.length
      ? ctx.findings
          .map((f) => `- [${f.severity}] ${f.file ? `${f.file}: ` : ''}${f.description} (from ${f.from})`)
          .join('\n')
      : '- none';
    const content = [
      `Vote on the review of iteration ${ctx.iteration} (round ${round}: ${stage}).`,
      `Task: ${ctx.task}`,
      `Findings:\n${findings}`,
      previous.length > 0
        ? `Votes of the previous round (address the others' points):\n${describeVotes(previous)}`
        : '',
      `Options: ${DEBATE_OPTIONS.join(' | ')}.`,
      'Answer with one JSON object: {"option": "finish|revise|escalate", "confidence": 0.0-1.0, "rationale": "…"}',
    ]
      .filter(Boolean)
      .join('\n\n');
    const request: Message = {
      id,
      runId: ctx.runId,
      from: 'director',
      to: voter,
      type: 'REQUEST',
      priority: 'HIGH',
      timestamp: (this.#o.now?.() ?? new Date()).toISOString(),
      content,
      expectedResponse: 'A JSON vote {option, confidence, rationale}.',
      phase: 3,
    };
    this.#pending.set(id, request);
    await this.#o.bus.publish(request);
  }

  /**
   * Publishes every unanswered vote request again (after Redis came back: a crash may have lost
   * the job). The bus drops a request whose id it still knows, so only lost ones are queued.
   */
  async resendPending(): Promise<number> {
    const pending = [...this.#pending.values()];
    const results = await Promise.all(pending.map((m) => this.#o.bus.publish(m)));
    return results.filter((r) => r.duplicate !== true).length;
  }
}

/** Resolves waits from RESPONSE messages; a wait that times out yields undefined (an abstention). */
export class InboxAwaiter implements ResponseAwaiter {
  readonly #waiting = new Map<string, (message: Message) => void>();
  readonly #early = new Map<string, Message>();

  /** True when the message answered a wait (so it is not a workflow step answer). */
  deliver(message: Message): boolean {
    if (!message.inReplyTo?.startsWith('vote_')) return false;
    const resolve = this.#waiting.get(message.inReplyTo);
    if (resolve) resolve(message);
    else this.#early.set(message.inReplyTo, message);
    return true;
  }

  wait(requestId: string, timeoutMs: number): Promise<Message | undefined> {
    const early = this.#early.get(requestId);
    if (early) {
      this.#early.delete(requestId);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(requestId, (message) => {
        clearTimeout(timer);
        this.#waiting.delete(requestId);
        resolve(message);
      });
    });
  }
}
