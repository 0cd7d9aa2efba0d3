import { checkRoute, LlmQueueFull, NightshiftError, TimeoutError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { failureEvent } from './circuits.js';
import { classifyFailure } from './failures.js';

// Reasons as their producers write them: "[CODE/category] message" (packages/llm encodeFailure,
// services/agent handle-request), or the bare reason admit() dead-letters a job with. The LLM_*
// ones are spelled out: @nightshift/llm is not a dependency of the Sentinel.
const wire = (e: NightshiftError) => `[${e.code}/${e.category}] ${e.message}`;
const routeError = (() => {
  const route = checkRoute({ from: 'scout', to: 'builder', type: 'REQUEST' });
  if (route.ok) throw new Error('expected scout → builder REQUEST to be refused');
  return route.error.message;
})();

describe('classifyFailure: only the provider failing counts for the circuit', () => {
  it.each([
    ['ollama 503 at the gateway', '[LLM_UNAVAILABLE/transient] ollama unavailable: server busy'],
    ['an unknown gateway error', '[LLM_FAILED/transient] socket hang up'],
    ['model not installed', '[LLM_MODEL_NOT_FOUND/fatal] model "qwen3:32b" is not installed on Ollama'],
    [
      'credentials refused',
      '[LLM_REQUEST_REJECTED/fatal] anthropic rejected the request (HTTP 401): bad key',
    ],
    ['the gateway queue full', wire(new LlmQueueFull(101, 100))],
    ['the role timeout at an agent', wire(new TimeoutError('builder task msg_1', 900_000))],
  ])('%s → provider', (_what, reason) => {
    expect(classifyFailure(reason)).toBe('provider');
  });

  it.each([
    ['invalid message: content: a string', 'invalid message: content: a string'],
    ['not a REQUEST', 'not a REQUEST: a STATUS cannot be queued as work'],
    ['misrouted', 'misrouted: a REQUEST to scout on queue agent.builder'],
    ['a route the topology refuses', routeError],
    [
      'HTTP 400 from the provider',
      '[LLM_REQUEST_REJECTED/invalid-input] anthropic rejected the request (HTTP 400): bad',
    ],
    ['a policy refusal', wire(new NightshiftError('SANDBOX_VIOLATION', 'outside', { category: 'policy' }))],
  ])('%s → input (poison, never counted)', (_what, reason) => {
    expect(classifyFailure(reason)).toBe('input');
  });

  it.each([
    ['the agent code itself', wire(new NightshiftError('AGENT_FAILED', 'boom', { category: 'transient' }))],
    ['a caller abort (shutdown)', '[LLM_ABORTED/fatal] model call aborted'],
    ['BullMQ giving up on a dying worker', 'job stalled more than allowable limit'],
    ['a worker not speaking the wire form', 'model down'],
    ['no reason at all', undefined],
  ])('%s → other (never counted)', (_what, reason) => {
    expect(classifyFailure(reason)).toBe('other');
  });

  it('a failed job becomes a failure event only for the provider', () => {
    expect(failureEvent('j1', '[LLM_UNAVAILABLE/transient] ollama unavailable: busy', 5)).toEqual({
      type: 'failure',
      jobId: 'j1',
      at: 5,
    });
    expect(failureEvent('j2', 'invalid message: (root): an object', 6)).toEqual({
      type: 'inconclusive',
      jobId: 'j2',
      at: 6,
    });
  });
});
