// The driver against a real Redis: a request the Director sends again (its step's event was lost,
// say, with the last second of an AOF) whose answer was already published picks that answer up
// instead of waiting for an agent that will not answer twice.
import { fold, parseRunEvent, stamp } from '@nightshift/core';
import { ScriptedChatModel } from '@nightshift/llm';
import { type Message, responseIdFor } from '@nightshift/protocol';
import { createBus, createKeys, createRunStore } from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorBrain } from './brain.js';
import { RunDriver } from './driver.js';
import type { Verifier } from './verify.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

describe('RunDriver', () => {
  it('uses an answer published before its request was (re-)sent', async () => {
    const keys = createKeys(uniquePrefix());
    const bus = createBus({ url: redis.url, keys, onError: () => undefined });
    try {
      const store = createRunStore(bus.redis, keys);
      const runId = 'run_answered_early';
      await store.append(runId, 0, [
        stamp({ type: 'run.created', runId, task: 'fix sum()' }, new Date().toISOString()),
      ]);
      const designId = `req_${runId}_design_i1_a1`;
      // The Architect's answer, already on the bus (and its guard) before the Director asks.
      await bus.publish({
        id: responseIdFor(designId),
        runId,
        from: 'architect',
        to: 'director',
        type: 'RESPONSE',
        priority: 'NORMAL',
        timestamp: new Date().toISOString(),
        content: 'Design (from before the crash).\n{"components": ["sum()"], "risks": []}',
        inReplyTo: designId,
        phase: 1,
      } satisfies Message);
      const brain = new DirectorBrain({
        fallback: new ScriptedChatModel({ replies: ['Goal: sum() adds every number.'] }),
      });
      const driver = new RunDriver({
        store,
        bus,
        brain,
        verifier: {} as Verifier,
        logger: createLogger({ service: 'test', level: 'silent' }),
        workflow: { maxIterations: 5, maxStepAttempts: 3 },
        roleTimeoutsMs: {
          director: 60_000,
          architect: 60_000,
          scout: 60_000,
          builder: 60_000,
          refactorer: 60_000,
          inspector: 60_000,
          scribe: 60_000,
        },
      });
      await driver.tick(runId);
      const events = await waitFor(
        async () => {
          const all = (await store.read(runId)).map((e) => parseRunEvent(e.event));
          return all.some((e) => e.type === 'step.requested' && e.step === 'research') ? all : undefined;
        },
        { what: 'the design step completed from the earlier answer, and research requested' },
      );
      const design = events.filter((e) => 'step' in e && e.step === 'design').map((e) => e.type);
      expect(design).toEqual(['step.requested', 'step.completed']);
      expect(fold(events).completed.find((c) => c.step === 'design')?.output).toContain(
        'from before the crash',
      );
      // The design REQUEST was queued for the Architect all the same (its job is what the bus knows).
      const log = (await bus.readLog({ count: 100 })).map((e) => e.message?.id);
      expect(log).toContain(designId);
    } finally {
      await bus.close();
    }
  });
});
