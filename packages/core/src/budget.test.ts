import { ValidationError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { type BudgetLimit, budgetOverruns, costOf, EMPTY_BUDGET, overBudget, priceOf } from './budget.js';

describe('costOf', () => {
  it('bills prompt-cache writes at 1.25× and reads at 0.1× of the input price', () => {
    const plain = costOf('claude-sonnet-4-5', { inputTokens: 1_000_000, outputTokens: 0 });
    const written = costOf('claude-sonnet-4-5', {
      inputTokens: 1_000_000,
      outputTokens: 0,
      cacheWriteTokens: 1_000_000,
    });
    const read = costOf('claude-sonnet-4-5', {
      inputTokens: 1_000_000,
      outputTokens: 0,
      cacheReadTokens: 800_000,
    });
    expect(written).toBeCloseTo(plain * 1.25, 6);
    expect(read).toBeCloseTo(plain * (0.2 + 0.8 * 0.1), 6);
  });

  it('prices Claude Sonnet at $3 / $15 per million tokens by default', () => {
    expect(costOf('claude-sonnet-4-5', { inputTokens: 1_000_000, outputTokens: 100_000 })).toBeCloseTo(
      4.5,
      10,
    );
    expect(costOf('claude-sonnet-4-5-20250929', { inputTokens: 2_000, outputTokens: 1_000 })).toBeCloseTo(
      0.021,
      10,
    );
  });

  it('a local Ollama model costs nothing', () => {
    expect(costOf('ollama/qwen3:32b', { inputTokens: 10_000_000, outputTokens: 10_000_000 })).toBe(0);
  });

  it('takes the longest matching prefix, exact keys first, and a custom table', () => {
    expect(priceOf('claude-opus-4-5-x')).toEqual({ inputPerMTok: 5, outputPerMTok: 25 });
    expect(priceOf('claude-opus-4-1')).toEqual({ inputPerMTok: 15, outputPerMTok: 75 });
    const table = {
      'qwen3:32b': { inputPerMTok: 0.1, outputPerMTok: 0.2 },
      'qwen*': { inputPerMTok: 9, outputPerMTok: 9 },
    };
    expect(costOf('qwen3:32b', { inputTokens: 1_000_000, outputTokens: 1_000_000 }, table)).toBeCloseTo(
      0.3,
      10,
    );
  });

  it('refuses an unknown model instead of counting it as free', () => {
    expect(() => costOf('gpt-x', { inputTokens: 1, outputTokens: 1 })).toThrow(ValidationError);
    expect(priceOf('__proto__')).toBeUndefined();
  });
});

describe('overBudget', () => {
  const start = '2026-01-28T00:00:00.000Z';
  const budget = (
    spent: { tokens: number; usd: number },
    limit: BudgetLimit = { maxTokens: 100, maxUsd: 1, maxHours: 2 },
  ) => ({
    ...EMPTY_BUDGET,
    limit,
    spent,
    startedAt: start,
    asOf: '2026-01-28T01:00:00.000Z',
  });

  it('is over only strictly past a limit', () => {
    expect(overBudget(budget({ tokens: 100, usd: 1 }))).toBe(false);
    expect(budgetOverruns(budget({ tokens: 101, usd: 1.5 }))).toEqual([
      { dimension: 'tokens', spent: 101, limit: 100 },
      { dimension: 'usd', spent: 1.5, limit: 1 },
    ]);
  });

  it('counts hours to the time given, else to the latest event', () => {
    expect(overBudget(budget({ tokens: 0, usd: 0 }))).toBe(false);
    expect(overBudget(budget({ tokens: 0, usd: 0 }), '2026-01-28T02:00:00.000Z')).toBe(false);
    expect(budgetOverruns(budget({ tokens: 0, usd: 0 }), Date.parse('2026-01-28T02:30:00.000Z'))).toEqual([
      { dimension: 'hours', spent: 2.5, limit: 2 },
    ]);
  });

  it('has no limit for a field left out', () => {
    expect(overBudget(budget({ tokens: 1e9, usd: 1e9 }, {}))).toBe(false);
  });
});
