// The messages an agent publishes: derived response ids, reply routing (guide §5 topology), fields.
import { IdSchema, type Message } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { alertMessage, replyTarget, responseIdFor, responseMessage, statusMessage } from './messages.js';

const request: Message = {
  id: 'msg_abc',
  runId: 'run_1',
  from: 'director',
  to: 'builder',
  type: 'REQUEST',
  priority: 'HIGH',
  timestamp: '2026-01-28T03:45:00.000Z',
  content: '\nImplement auth.\nDetails follow.',
  phase: 2,
};

describe('responseIdFor', () => {
  it('is derived from the request id, and always a valid id', () => {
    expect(responseIdFor('msg_abc')).toBe('rsp_msg_abc');
    const long = `m${'x'.repeat(127)}`;
    const derived = responseIdFor(long);
    expect(derived).toBe(responseIdFor(long));
    expect(derived.length).toBeLessThanOrEqual(128);
    expect(IdSchema.safeParse(derived).success).toBe(true);
  });
});

describe('replyTarget', () => {
  it('answers the Director directly', () => {
    expect(replyTarget('builder', request)).toBe('director');
  });

  it('lets Scout answer whoever asked', () => {
    expect(replyTarget('scout', { ...request, from: 'builder', to: 'scout' })).toBe('builder');
  });

  it('answers peers during review only; otherwise reports to the Director', () => {
    const peer = { ...request, from: 'inspector' as const, to: 'builder' as const };
    expect(replyTarget('builder', { ...peer, phase: 3 })).toBe('inspector');
    expect(replyTarget('builder', { ...peer, phase: 2 })).toBe('director');
  });

  it('sends answers to humans and the runtime via the Director', () => {
    expect(replyTarget('architect', { ...request, from: 'human', to: 'architect' })).toBe('director');
    expect(replyTarget('builder', { ...request, from: 'system' })).toBe('director');
  });
});

describe('messages about a request', () => {
  it('carry the run, phase, attempt and the request id', () => {
    const now = new Date('2026-01-28T04:00:00.000Z');
    const status = statusMessage({ role: 'builder', request, attempt: 2, now });
    expect(status).toMatchObject({
      type: 'STATUS',
      to: 'director',
      inReplyTo: 'msg_abc',
      attempt: 2,
      runId: 'run_1',
      phase: 2,
    });
    expect(status.content).toBe('Working on msg_abc (attempt 2): Implement auth.');
    const response = responseMessage({
      role: 'builder',
      request,
      attempt: 1,
      reply: { content: 'done', context: 'jwt', formatted: true },
    });
    expect(response).toMatchObject({
      id: 'rsp_msg_abc',
      type: 'RESPONSE',
      priority: 'HIGH',
      content: 'done',
      context: 'jwt',
    });
    expect(response.expectedResponse).toBeUndefined();
    const alert = alertMessage({
      role: 'builder',
      request,
      attempt: 1,
      reason: 'timed out',
      code: 'TIMEOUT',
    });
    expect(alert).toMatchObject({
      type: 'ALERT',
      to: 'director',
      priority: 'HIGH',
      context: 'code: TIMEOUT',
    });
  });
});
