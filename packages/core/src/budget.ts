// A run's budget (tokens, USD, hours; issue 5) and what model calls cost, from a configurable price table.

import { ValidationError } from '@nightshift/protocol';
import { z } from 'zod';
import { deepFreeze } from './freeze.js';
import { type Instant, toMs } from './time.js';

/** Limits a run may not exceed; any field left out is unlimited. */
export const BudgetLimitSchema = z.object({
  maxTokens: z.int().min(0).optional(),
  maxUsd: z.number().min(0).optional(),
  maxHours: z.number().min(0).optional(),
});
export type BudgetLimit = z.infer<typeof BudgetLimitSchema>;

export const UsageSchema = z.object({
  /** Every prompt token, cached or not. */
  inputTokens: z.int().min(0),
  outputTokens: z.int().min(0),
  /** Of inputTokens: read from Anthropic's prompt cache / written to it. */
  cacheReadTokens: z.int().min(0).optional(),
  cacheWriteTokens: z.int().min(0).optional(),
  usd: z.number().min(0).optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

/** Spent vs limit, as folded from a run's events. */
export interface BudgetState {
  readonly limit: BudgetLimit;
  readonly spent: { readonly tokens: number; readonly usd: number };
  /** `at` of run.created: the hours budget counts from here. */
  readonly startedAt: string | null;
  /** `at` of the latest event: "now" for the hours budget when the caller passes no time. */
  readonly asOf: string | null;
  /** A human chose to continue past the overrun (human.decided while waiting on the budget). */
  readonly waived: boolean;
}

export const EMPTY_BUDGET: BudgetState = deepFreeze({
  limit: {},
  spent: { tokens: 0, usd: 0 },
  startedAt: null,
  asOf: null,
  waived: false,
});

export interface ModelPrice {
  /** USD per million input tokens. */
  readonly inputPerMTok: number;
  /** USD per million output tokens. */
  readonly outputPerMTok: number;
}
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * Configurable defaults, not a source of truth: check the provider's price list and override
 * through config. A key ending in `*` matches by prefix; the longest match wins. Local models
 * (named `ollama/<model>`) and the simulated model (`sim/<name>`) cost nothing per token.
 */
export const DEFAULT_PRICES: PriceTable = deepFreeze({
  'ollama/*': { inputPerMTok: 0, outputPerMTok: 0 },
  'sim/*': { inputPerMTok: 0, outputPerMTok: 0 },
  'claude-sonnet-*': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-3-5-sonnet*': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-3-7-sonnet*': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-opus-4-5*': { inputPerMTok: 5, outputPerMTok: 25 },
  'claude-opus-*': { inputPerMTok: 15, outputPerMTok: 75 },
  'claude-haiku-4-5*': { inputPerMTok: 1, outputPerMTok: 5 },
  'claude-3-5-haiku*': { inputPerMTok: 0.8, outputPerMTok: 4 },
});

/** The price of a model: an exact key first, then the longest matching `prefix*` key. */
export function priceOf(model: string, prices: PriceTable = DEFAULT_PRICES): ModelPrice | undefined {
  const exact = Object.hasOwn(prices, model) ? prices[model] : undefined;
  if (exact) return exact;
  let best: { length: number; price: ModelPrice } | undefined;
  for (const [key, price] of Object.entries(prices)) {
    if (!key.endsWith('*')) continue;
    const prefix = key.slice(0, -1);
    if (model.startsWith(prefix) && (best === undefined || prefix.length > best.length)) {
      best = { length: prefix.length, price };
    }
  }
  return best?.price;
}

/**
 * USD cost of one call. An unknown model is a ValidationError rather than a silent 0, which
 * would hide real spend: config should check its models with `priceOf` at start.
 */
/** Anthropic's prompt-cache prices relative to input: a write 1.25×, a read 0.1× (5-minute cache). */
export const CACHE_WRITE_FACTOR = 1.25;
export const CACHE_READ_FACTOR = 0.1;

export function costOf(
  model: string,
  usage: Pick<Usage, 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheWriteTokens'>,
  prices: PriceTable = DEFAULT_PRICES,
): number {
  const price = priceOf(model, prices);
  if (price === undefined) {
    throw new ValidationError('model price', [
      {
        path: 'model',
        expected: `a model with a price (${Object.keys(prices).join(', ')})`,
        received: model,
      },
    ]);
  }
  const read = usage.cacheReadTokens ?? 0;
  const write = usage.cacheWriteTokens ?? 0;
  const plain = Math.max(0, usage.inputTokens - read - write);
  const input = plain + write * CACHE_WRITE_FACTOR + read * CACHE_READ_FACTOR;
  return (input * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1_000_000;
}

export type BudgetDimension = 'tokens' | 'usd' | 'hours';
export interface BudgetOverrun {
  readonly dimension: BudgetDimension;
  readonly spent: number;
  readonly limit: number;
}

/**
 * Every limit the run has gone past. "Past" is strictly more than the limit: a run that used
 * exactly its budget is done spending, not over it. Hours count from run.created to `now`
 * (default: the latest event, so the answer is a pure function of the events).
 */
export function budgetOverruns(budget: BudgetState, now?: Instant): BudgetOverrun[] {
  const out: BudgetOverrun[] = [];
  const { limit, spent } = budget;
  if (limit.maxTokens !== undefined && spent.tokens > limit.maxTokens) {
    out.push({ dimension: 'tokens', spent: spent.tokens, limit: limit.maxTokens });
  }
  if (limit.maxUsd !== undefined && spent.usd > limit.maxUsd) {
    out.push({ dimension: 'usd', spent: spent.usd, limit: limit.maxUsd });
  }
  const until = now ?? budget.asOf;
  if (limit.maxHours !== undefined && budget.startedAt !== null && until !== null) {
    const hours = (toMs(until, 'now') - toMs(budget.startedAt, 'budget.startedAt')) / 3_600_000;
    if (hours > limit.maxHours) out.push({ dimension: 'hours', spent: hours, limit: limit.maxHours });
  }
  return out;
}

/** True when any limit is exceeded (a waiver does not change the answer; the workflow checks it). */
export function overBudget(budget: BudgetState, now?: Instant): boolean {
  return budgetOverruns(budget, now).length > 0;
}

/** Readable one-liner for a waiting-human reason or an alert. */
export function describeOverruns(overruns: readonly BudgetOverrun[]): string {
  return overruns
    .map((o) => {
      const fmt = (n: number) =>
        o.dimension === 'usd' ? `$${n.toFixed(4)}` : o.dimension === 'hours' ? `${n.toFixed(2)} h` : `${n}`;
      return `${o.dimension} ${fmt(o.spent)} > ${fmt(o.limit)}`;
    })
    .join(', ');
}

/** Spent after one more usage (tokens in + out; usd when known). */
export function addUsage(budget: BudgetState, tokens: number, usd: number): BudgetState {
  return { ...budget, spent: { tokens: budget.spent.tokens + tokens, usd: budget.spent.usd + usd } };
}
