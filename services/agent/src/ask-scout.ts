// ask_scout over the bus: a REQUEST to Scout (anyone may ask Scout, guide §5 topology), then the
// answer awaited in bus:log (every message passes through it) with a timeout.
import { type Message, newId, TimeoutError, type WorkerRole } from '@nightshift/protocol';
import type { Bus, LogEntry } from '@nightshift/redis';

export interface AskScoutOptions {
  bus: Pick<Bus, 'publish' | 'readLog' | 'tailLog'>;
  role: WorkerRole;
  /** The request being worked on: the question inherits its run and phase. */
  request: Message;
  /** Longest wait for Scout's answer (Scout's own role timeout, guide §7: 300 s). */
  timeoutMs: number;
  /** The job's signal: a role timeout or shutdown stops the wait too. */
  signal?: AbortSignal | undefined;
}

/** Sends `question` to Scout and resolves with its answer; rejects on its ALERT, a timeout or abort. */
export async function askScout(question: string, o: AskScoutOptions): Promise<string> {
  const id = newId('msg');
  // Where to start reading: before publishing, so the answer cannot slip past the tail.
  const newest = (await o.bus.readLog({ reverse: true, count: 1 }))[0]?.id ?? '0-0';
  await o.bus.publish({
    id,
    runId: o.request.runId,
    from: o.role,
    to: 'scout',
    type: 'REQUEST',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: question,
    context: `Asked by the ${o.role} while working on ${o.request.id}.`,
    ...(o.request.phase === undefined ? {} : { phase: o.request.phase }),
  } satisfies Message);

  const stop = new AbortController();
  const timer = setTimeout(
    () => stop.abort(new TimeoutError(`Scout's answer to ${id}`, o.timeoutMs)),
    o.timeoutMs,
  );
  const onOuterAbort = () => stop.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let answer: Message | undefined;
  try {
    await o.bus.tailLog(
      (entry: LogEntry) => {
        const m = entry.message;
        if (m?.inReplyTo !== id || (m.type !== 'RESPONSE' && m.type !== 'ALERT')) return;
        answer = m;
        stop.abort();
      },
      { from: newest, blockMs: 1000, signal: stop.signal },
    );
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (answer === undefined) {
    const reason = stop.signal.reason;
    throw reason instanceof Error ? reason : new TimeoutError(`Scout's answer to ${id}`, o.timeoutMs);
  }
  if (answer.type === 'ALERT') throw new Error(`Scout could not answer: ${answer.content}`);
  return answer.context ? `${answer.content}\n\n(context: ${answer.context})` : answer.content;
}
