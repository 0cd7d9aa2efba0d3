import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  describeProblems,
  failureReason,
  LlmQueueFull,
  NightshiftError,
  parseFailureReason,
  ValidationError,
} from './errors.js';
import { MessageSchema } from './message.js';
import { validate } from './schema-errors.js';

describe('NightshiftError', () => {
  it('serialises code, category, details and cause', () => {
    const cause = new Error('socket closed');
    const error = new NightshiftError('X_FAILED', 'x failed', {
      category: 'transient',
      cause,
      details: { n: 1 },
    });
    expect(error.retryable).toBe(true);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'NightshiftError',
      code: 'X_FAILED',
      category: 'transient',
      message: 'x failed',
      details: { n: 1 },
      cause: { name: 'Error', message: 'socket closed' },
    });
  });

  it('subclasses keep their name and category', () => {
    const full = new LlmQueueFull(101, 100);
    expect(full.name).toBe('LlmQueueFull');
    expect(full.retryable).toBe(true);
    expect(
      new ConfigError([{ path: 'OLLAMA_NUM_PARALLEL', expected: 'a positive integer', received: 'two' }])
        .message,
    ).toContain('OLLAMA_NUM_PARALLEL: expected a positive integer (got two)');
  });
});

describe('validate', () => {
  it('names every bad field of a message', () => {
    try {
      validate(MessageSchema, { id: '42', runId: 'r', from: 'nobody', to: 'ALL', type: 'STATUS' }, 'message');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      const paths = (error as ValidationError).problems.map((p) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['id', 'from', 'priority', 'timestamp', 'content']));
      expect((error as ValidationError).category).toBe('invalid-input');
    }
  });

  it('returns the parsed value when valid', () => {
    expect(validate(z.object({ a: z.number() }), { a: 1 }, 'thing')).toEqual({ a: 1 });
  });
});

describe('failureReason / parseFailureReason', () => {
  it('round-trips code, category and a multi-line message, and refuses a reason without the prefix', () => {
    const reason = failureReason({
      code: 'LLM_UNAVAILABLE',
      category: 'transient',
      message: 'down\nfor now',
    });
    expect(reason).toBe('[LLM_UNAVAILABLE/transient] down\nfor now');
    expect(parseFailureReason(reason)).toEqual({
      code: 'LLM_UNAVAILABLE',
      category: 'transient',
      message: 'down\nfor now',
    });
    expect(parseFailureReason('job stalled more than allowable limit')).toBeUndefined();
    expect(parseFailureReason('[X/sometimes] no such category')).toBeUndefined();
  });
});

describe('describeProblems', () => {
  it('lists each field and what was expected, naming the root', () => {
    expect(
      describeProblems([
        { path: 'task', expected: 'a string' },
        { path: '', expected: 'an object' },
      ]),
    ).toBe('task: a string; (root): an object');
  });
});
