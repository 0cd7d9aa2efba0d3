// Bull Board at /queues over every Nightshift queue (runs, llm, dead-letter, agent.<role>), with
// retry and clean enabled. It has no auth of its own (REFERENCE): our onRequest hook guards it.

import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { queueNames } from '@nightshift/client';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const BULL_BOARD_PATH = '/queues';

export async function registerBullBoard(app: FastifyInstance, queue: (name: string) => Queue): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    // @bull-board/fastify pins its own copy of @bull-board/api (9.10.1 vs our 9.10.2): the adapter
    // is the same at runtime, but TypeScript sees two declarations of its private fields.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    queues: queueNames().map(
      (name) =>
        new BullMQAdapter(queue(name), { readOnlyMode: false, allowRetries: true, displayName: name }),
    ),
    options: { uiConfig: { boardTitle: 'Nightshift queues' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
}
