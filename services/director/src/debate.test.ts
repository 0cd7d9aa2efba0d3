// resendPending: after Redis comes back, unanswered vote requests are published again (the bus
// drops the ones it still knows), answered ones are not.
import type { StepContext, Vote } from '@nightshift/core';
import type { Message } from '@nightshift/protocol';
import { createLogger } from '@nightshift/runtime';
import { waitFor } from '@nightshift/testkit';
import { describe, expect, it } from 'vitest';
import { type ResponseAwaiter, ReviewDebate, VOTERS } from './debate.js';

const ctx: StepContext = {
  runId: 'run_d',
  task: 'fix sum()',
  phase: 3,
  iteration: 1,
  attempt: 1,
  outputs: {},
  findings: [],
  humanNotes: [],
  trust: {},
};

describe('ReviewDebate.resendPending', () => {
  it('publishes only the vote requests still waiting, and counts what the bus queued anew', async () => {
    const published: Message[] = [];
    const known = new Set<string>();
    const bus = {
      publish: async (m: unknown) => {
        const message = m as Message;
        published.push(message);
        const duplicate = known.has(message.id);
        known.add(message.id);
        return { logId: `${published.length}-0`, ...(duplicate ? { duplicate: true } : {}) };
      },
    };
    // The builder answers at once; the others never do (their waits stay open).
    const waits = new Map<string, (m: Message | undefined) => void>();
    const awaiter: ResponseAwaiter = {
      wait: (id) =>
        id.includes('_builder_')
          ? Promise.resolve(undefined)
          : new Promise((resolve) => {
              waits.set(id, resolve);
            }),
    };
    const debate = new ReviewDebate({
      bus,
      awaiter,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    const vote: Vote = { voter: 'director', option: 'finish', confidence: 1, rationale: 'ok' } as Vote;
    const running = debate.run(ctx, 'n1', async () => vote);
    // Sent to all four; the builder's answer is in, the three others are awaited.
    await waitFor(() => waits.size === 3, { what: 'three votes awaited' });
    expect(published.map((m) => m.to)).toEqual([...VOTERS]);

    // As if the crash lost the refactorer's job (and its publish guard): the bus forgets it.
    const lost = published.find((m) => m.to === 'refactorer');
    known.delete(lost?.id ?? '');
    expect(await debate.resendPending()).toBe(1);
    const resent = published.slice(VOTERS.length);
    expect(resent.map((m) => m.to).sort()).toEqual(['architect', 'inspector', 'refactorer']);
    expect(resent.find((m) => m.to === 'refactorer')).toEqual(lost);

    for (const resolve of waits.values()) resolve(undefined);
    await running;
    // Every wait is over: nothing is pending any more.
    expect(await debate.resendPending()).toBe(0);
  });
});
