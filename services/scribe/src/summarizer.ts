// Rolling summaries, the stateful part: per run and per phase entry, fold the journal's new
// lines into a bounded summary — by the model through the gateway at the Scribe's low priority
// (guide §7: Scribe 60 s, Low), or extractively when the model is unavailable, saying so.
//
// Where things live (the Director reads the first to give agents the summary, not the history):
//   <prefix>:run:<id>:summary                 the run summary (markdown, ≤ maxChars)
//   <prefix>:run:<id>:summary:phase:<n>       phase entry n's summary (markdown, ≤ maxChars)
//   <prefix>:run:<id>:summary:state           hash: `run`, `phase:<n>` (SummaryState JSON) and
//                                             `cursor:<n>` (journal lines of phase n folded)
//   MEMORY_DIR/<id>/summary.md, MEMORY_DIR/<id>/summaries/phase-<n>.md   the same texts
// A fold commits all of that in one MULTI after the files, so a crash mid-fold just redoes it.
import { join } from 'node:path';
import type { PhaseEntry } from '@nightshift/core';
import type { ChatModel } from '@nightshift/llm';
import { type Message, PHASE_NAMES } from '@nightshift/protocol';
import type { Keys, RedisClient } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import { writeFileAtomic } from './files.js';
import type { Journal, JournalEntry } from './journal.js';
import {
  bodyBound,
  CHARS_PER_TOKEN,
  cleanModelText,
  DEFAULT_SUMMARY_TOKENS,
  EMPTY_SUMMARY,
  extractiveBody,
  foldRecent,
  messageLine,
  renderSummary,
  type SummaryState,
  summaryPrompt,
} from './summary.js';

export interface SummarizerOptions {
  redis: RedisClient;
  keys: Keys;
  memoryDir: string;
  journal: Journal;
  logger: Logger;
  /** The gateway client (role scribe, low priority); absent = always extractive. */
  model?: ChatModel | undefined;
  /** Bound of every summary, tokens (≈ 4 characters each); default 2,000. */
  maxTokens?: number;
  /** Most characters of new lines per model call (default: the summary bound). */
  batchChars?: number;
  /** Fold as soon as this many messages wait, without waiting for a quiet moment (default 40). */
  batchMessages?: number;
  /** Fold what waits after this long without a new message (default 10 s). */
  idleMs?: number;
  /** One model call's limit (default 60 s, the Scribe's role timeout, guide §7). */
  timeoutMs?: number;
  /** After a failed call, skip the model this long and fold extractively (default 60 s). */
  modelRetryMs?: number;
  /**
   * Most runs folded at once (default 2). A fold asks the model one call at a time, so this caps the
   * Scribe's calls waiting on `llm`: they are the lowest priority and starve behind a busy team or
   * an outage, and one per ended run used to pile up (78 in a soak, issue 21). A run over the cap
   * is folded by a later pass (the Scribe's catch-up pass asks every 2 s), its lines coalesced into
   * fewer, fuller batches meanwhile.
   */
  maxFolds?: number;
  now?: () => Date;
}

/** What the summarizer needs to know about the run. */
export interface RunView {
  runId: string;
  title?: string | undefined;
  phases: readonly PhaseEntry[];
  ended: boolean;
}

interface Batch {
  ordinal: number;
  entries: (JournalEntry & { line: number })[];
  cursor: number;
  states: Record<string, string>;
}

export function summaryKeys(keys: Keys, runId: string) {
  return {
    text: keys.custom('run', runId, 'summary'),
    phase: (n: number) => keys.custom('run', runId, 'summary', 'phase', String(n)),
    state: keys.custom('run', runId, 'summary', 'state'),
  };
}

function parseState(raw: string | undefined): SummaryState {
  if (raw === undefined) return EMPTY_SUMMARY;
  try {
    const value = JSON.parse(raw) as SummaryState;
    return typeof value.body === 'string' && typeof value.messages === 'number' ? value : EMPTY_SUMMARY;
  } catch (error) {
    void error; // a damaged state starts the summary afresh rather than stopping it
    return EMPTY_SUMMARY;
  }
}

export class Summarizer {
  readonly #o: SummarizerOptions;
  readonly maxChars: number;
  readonly #batchChars: number;
  readonly #folding = new Set<string>();
  readonly #lastArrival = new Map<string, number>();
  #modelDownUntil = 0;
  #modelDownReason = '';
  /** Aborted on shutdown, so a summary call in flight never holds up a SIGTERM. */
  readonly #shutdown = new AbortController();

  /** Cancels model calls in flight (they fall back to an extractive summary at once). */
  abort(): void {
    this.#shutdown.abort(new Error('the Scribe is stopping'));
  }

  constructor(options: SummarizerOptions) {
    this.#o = options;
    this.maxChars = (options.maxTokens ?? DEFAULT_SUMMARY_TOKENS) * CHARS_PER_TOKEN;
    this.#batchChars = options.batchChars ?? this.maxChars;
  }

  #now(): number {
    return (this.#o.now?.() ?? new Date()).getTime();
  }

  /** A new message of the run was journaled (the idle timer restarts). */
  noteArrival(runId: string): void {
    this.#lastArrival.set(runId, this.#now());
  }

  /**
   * Folds batches while one is due; at most one fold of a run at a time and `maxFolds` runs at once
   * (0 returned: deferred to a later call). Returns batches folded.
   */
  async run(runId: string, view: () => Promise<RunView | undefined>): Promise<number> {
    if (this.#folding.has(runId) || this.#folding.size >= (this.#o.maxFolds ?? 2)) return 0;
    this.#folding.add(runId);
    let folded = 0;
    try {
      for (;;) {
        const v = await view();
        if (!v) return folded;
        const batch = await this.#nextBatch(v);
        if (!batch) return folded;
        await this.#fold(v, batch);
        folded++;
      }
    } finally {
      this.#folding.delete(runId);
    }
  }

  /** True when every journal line of phase entry `n` is folded into its summary. */
  async fullyFolded(runId: string, n: number): Promise<boolean> {
    const raw = await this.#o.redis.hget(summaryKeys(this.#o.keys, runId).state, `cursor:${n}`);
    return Number(raw ?? 0) >= (await this.#o.journal.lineCount(runId, n));
  }

  async text(runId: string): Promise<string | null> {
    return this.#o.redis.get(summaryKeys(this.#o.keys, runId).text);
  }

  async phaseText(runId: string, n: number): Promise<string | null> {
    return this.#o.redis.get(summaryKeys(this.#o.keys, runId).phase(n));
  }

  async #nextBatch(v: RunView): Promise<Batch | undefined> {
    const { redis, keys, journal } = this.#o;
    const states = await redis.hgetall(summaryKeys(keys, v.runId).state);
    for (const n of await journal.ordinals(v.runId)) {
      const cursor = Number(states[`cursor:${n}`] ?? 0);
      if (cursor >= (await journal.lineCount(v.runId, n))) continue;
      const pending = await journal.read(v.runId, n, cursor);
      const sizes = pending.map((e) => messageLine(e.message).length + 1);
      const waiting = sizes.reduce((a, b) => a + b, 0);
      // A phase that has ended, or the run's end, folds at once; the current phase waits for a
      // full batch or a quiet moment, so a busy run is not summarised one message at a time.
      const closed = n < v.phases.length || v.ended;
      const idle = this.#now() - (this.#lastArrival.get(v.runId) ?? 0) >= (this.#o.idleMs ?? 10_000);
      const full = pending.length >= (this.#o.batchMessages ?? 40) || waiting >= this.#batchChars;
      if (!closed && !idle && !full) return undefined;
      const entries: Batch['entries'] = [];
      let chars = 0;
      for (const [i, e] of pending.entries()) {
        const size = sizes[i] ?? 0;
        if (entries.length > 0 && chars + size > this.#batchChars) break;
        entries.push(e);
        chars += size;
      }
      const last = entries.at(-1);
      // Only unreadable lines left: step over them (nothing to fold, the journal reported them).
      const next = last ? last.line + 1 : await journal.lineCount(v.runId, n);
      return { ordinal: n, entries, cursor: next, states };
    }
    return undefined;
  }

  async #fold(v: RunView, batch: Batch): Promise<void> {
    const { redis, keys, memoryDir } = this.#o;
    const n = batch.ordinal;
    const messages = batch.entries.map((e) => e.message);
    const phase = v.phases[n - 1];
    const phaseName = phase
      ? `P${phase.phase} ${PHASE_NAMES[phase.phase]}, iteration ${phase.iteration}`
      : 'before the first phase';
    const name = v.title ?? v.runId;
    const phaseScope = `phase entry ${n} (${phaseName}) of run ${v.runId}`;
    const runScope = `run ${v.runId}`;
    const nextPhase = await this.#foldOne(
      parseState(batch.states[`phase:${n}`]),
      messages,
      phaseScope,
      v.runId,
    );
    const nextRun = await this.#foldOne(parseState(batch.states.run), messages, runScope, v.runId);
    const phaseText = renderSummary(
      `Phase ${n} summary — ${phaseName} — ${name}`,
      phaseScope,
      nextPhase,
      this.maxChars,
    );
    const runText = renderSummary(`Run summary — ${name}`, runScope, nextRun, this.maxChars);
    // Files first: if the commit below never happens, the next fold redoes and rewrites them.
    await writeFileAtomic(join(memoryDir, v.runId, 'summaries', `phase-${n}.md`), phaseText);
    await writeFileAtomic(join(memoryDir, v.runId, 'summary.md'), runText);
    const k = summaryKeys(keys, v.runId);
    const replies = await redis
      .multi()
      .hset(
        k.state,
        'run',
        JSON.stringify(nextRun),
        `phase:${n}`,
        JSON.stringify(nextPhase),
        `cursor:${n}`,
        String(batch.cursor),
      )
      .set(k.text, runText)
      .set(k.phase(n), phaseText)
      .exec();
    const failed = replies?.find(([error]) => error)?.[0];
    if (!replies || failed) throw failed ?? new Error('summary commit: MULTI was discarded');
  }

  async #foldOne(
    prev: SummaryState,
    messages: readonly Message[],
    scope: string,
    runId: string,
  ): Promise<SummaryState> {
    const recent = foldRecent(prev.recent, messages);
    const lastAt = messages.at(-1)?.timestamp ?? prev.lastAt;
    const base = {
      messages: prev.messages + messages.length,
      recent,
      ...(lastAt === undefined ? {} : { lastAt }),
      ...(prev.modelBody === undefined ? {} : { modelBody: prev.modelBody }),
    };
    const bodyMax = bodyBound(this.maxChars);
    let reason: string;
    const model = this.#o.model;
    const now = this.#now();
    if (!model) {
      reason = 'no model is configured for the Scribe';
    } else if (now < this.#modelDownUntil) {
      reason = `${this.#modelDownReason}; not asked again until ${new Date(this.#modelDownUntil).toISOString()}`;
    } else {
      const timeoutMs = this.#o.timeoutMs ?? 60_000;
      try {
        const result = await model.chat({
          messages: summaryPrompt(scope, prev.body, messages.map(messageLine), bodyMax),
          role: 'scribe',
          runId,
          deadline: Date.now() + timeoutMs,
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#shutdown.signal]),
        });
        const body = cleanModelText(result.text, bodyMax);
        if (body === '') throw new Error('the model answered with an empty summary');
        return { ...base, body, mode: 'model', model: result.model, modelBody: body };
      } catch (error) {
        reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.#modelDownUntil = now + (this.#o.modelRetryMs ?? 60_000);
        this.#modelDownReason = reason;
        this.#o.logger.warn({ runId, err: reason }, 'summary model unavailable; folding extractively');
      }
    }
    return { ...base, body: extractiveBody({ ...base, recent }, bodyMax), mode: 'extractive', reason };
  }
}
