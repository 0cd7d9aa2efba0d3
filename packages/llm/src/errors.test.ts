// The failure wire form (gateway → caller) and abort reasons.
import { LlmQueueFull, NightshiftError, TimeoutError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { abortError, decodeFailure, encodeFailure, LlmUnavailable, ModelNotFound } from './errors.js';

describe('failure wire form', () => {
  it('round-trips code, category and message', () => {
    const original = new LlmUnavailable('Ollama at http://127.0.0.1:1', 'HTTP 503 server busy');
    const decoded = decodeFailure(encodeFailure(original));
    expect(decoded).toBeInstanceOf(NightshiftError);
    expect(decoded.code).toBe('LLM_UNAVAILABLE');
    expect(decoded.category).toBe('transient');
    expect(decoded.message).toBe(original.message);
  });

  it('keeps a fatal error fatal', () => {
    const decoded = decodeFailure(encodeFailure(new ModelNotFound('qwen3:32b', 'http://h:1', ['llama3:8b'])));
    expect(decoded.code).toBe('LLM_MODEL_NOT_FOUND');
    expect(decoded.category).toBe('fatal');
    expect(decoded.message).toContain('ollama pull qwen3:32b');
    expect(decoded.message).toContain('llama3:8b');
  });

  it('treats reasons BullMQ wrote itself as transient', () => {
    const decoded = decodeFailure('job stalled more than allowable limit');
    expect(decoded.code).toBe('LLM_GATEWAY_FAILED');
    expect(decoded.category).toBe('transient');
  });

  it('encodes plain errors as transient LLM_FAILED', () => {
    expect(encodeFailure(new Error('boom'))).toBe('[LLM_FAILED/transient] boom');
    expect(decodeFailure(encodeFailure(new LlmQueueFull(3, 2))).code).toBe('LLM_QUEUE_FULL');
  });
});

describe('abortError', () => {
  it('keeps a NightshiftError reason', () => {
    const controller = new AbortController();
    const reason = new TimeoutError('builder task', 900_000);
    controller.abort(reason);
    expect(abortError(controller.signal)).toBe(reason);
  });

  it('names a plain abort LLM_ABORTED', () => {
    const controller = new AbortController();
    controller.abort();
    expect(abortError(controller.signal).code).toBe('LLM_ABORTED');
  });
});
