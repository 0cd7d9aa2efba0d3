// The live stream over a real socket: history first, then each new bus:log message of the run in
// the guide's markdown form, and a new panel when the run's phase moves; other runs stay out.
import { randomBytes } from 'node:crypto';
import { type OpenedControl, openControl } from '@nightshift/client';
import type { RunEventDraft } from '@nightshift/core';
import { type Message, newId } from '@nightshift/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';
import { dropPrefixAndClose, seedRun } from './test-support/control.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-sse-${randomBytes(4).toString('hex')}}`;
let control: OpenedControl;
let app: FastifyInstance;
let base: string;

const seed = (runId: string, drafts: RunEventDraft[]) => seedRun(control, runId, drafts, 'stream me');

function status(runId: string, content: string): Message {
  return {
    id: newId('msg'),
    runId,
    from: 'builder',
    to: 'director',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content,
  };
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads SSE events until `until` holds for the list, or fails after `timeoutMs`. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (events: SseEvent[]) => boolean,
  timeoutMs = 20_000,
): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      if (Date.now() > deadline)
        throw new Error(`no matching events; got ${JSON.stringify(events.map((e) => e.event))}`);
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        cut = buffer.indexOf('\n\n');
      }
    }
    return events;
  } finally {
    reader.releaseLock();
  }
}

beforeAll(async () => {
  control = openControl({ url, prefix, actor: 'dashboard' });
  app = await buildServer({ control, bus: control.bus, host: '127.0.0.1', streamIntervalMs: 100 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  await seed('run_s', [{ type: 'phase.started', phase: 1, iteration: 1 }]);
  await seed('run_other', []);
});

afterAll(async () => {
  await app?.close();
  await dropPrefixAndClose(control, prefix);
});

describe('GET /api/stream', () => {
  it('sends history, then new messages of the run and a panel per phase change', async () => {
    await control.bus.publish(status('run_s', 'before the page opened'));
    const abort = new AbortController();
    const res = await fetch(`${base}/api/stream?run=run_s`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const body = res.body as ReadableStream<Uint8Array>;
    try {
      const first = await readEvents(
        body,
        (list) => list.some((e) => e.event === 'panel') && list.some((e) => e.event === 'message'),
      );
      const history = first.find((e) => e.event === 'message');
      expect(history?.data.text).toContain('before the page opened');
      expect(history?.data.text).toContain('FROM: Builder');
      expect(first.find((e) => e.event === 'panel')?.data.phase).toBe(1);

      await control.bus.publish(status('run_other', 'not for this page'));
      await control.bus.publish(status('run_s', 'a <b>live</b> update'));
      await seed('run_s', [{ type: 'phase.started', phase: 2, iteration: 1 }]);
      const later = await readEvents(
        body,
        (list) =>
          list.some((e) => e.event === 'message' && String(e.data.text).includes('live')) &&
          list.some((e) => e.event === 'panel' && e.data.phase === 2),
      );
      const texts = later.filter((e) => e.event === 'message').map((e) => String(e.data.text));
      expect(texts.join('\n')).not.toContain('not for this page');
      // The raw text travels as JSON; the page sets it as textContent, so markup stays text.
      expect(texts.some((t) => t.includes('### Content\na <b>live</b> update'))).toBe(true);
      const panel = later.find((e) => e.event === 'panel' && e.data.phase === 2);
      expect(String(panel?.data.html)).toContain('P2 Execution');
    } finally {
      abort.abort();
    }
  });

  it('catches a reconnecting client up from the last id it has', async () => {
    const one = await control.bus.publish(status('run_s', 'one'));
    await control.bus.publish(status('run_s', 'two'));
    const abort = new AbortController();
    const res = await fetch(`${base}/api/stream?run=run_s&after=${one.logId}`, { signal: abort.signal });
    try {
      const events = await readEvents(res.body as ReadableStream<Uint8Array>, (l) =>
        l.some((e) => e.event === 'message' && String(e.data.text).includes('two')),
      );
      const texts = events.filter((e) => e.event === 'message').map((e) => String(e.data.text));
      expect(texts.some((t) => t.includes('### Content\none'))).toBe(false);
    } finally {
      abort.abort();
    }
  });

  it('answers 404 for an unknown run and 400 for a bad cursor', async () => {
    expect((await fetch(`${base}/api/stream?run=run_nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/stream?run=run_s&after=yesterday`)).status).toBe(400);
  });
});
