// What a chaos scenario counts, always read back from Redis (the truth), never from what the
// harness believes it sent: answers per request, lost and duplicated ones, stream integrity,
// run folds, queue counts.
import { fold, parseRunEvent } from '@nightshift/core';
import { MessageSchema, newId, WORKER_ROLES } from '@nightshift/protocol';
import { createAlertStore, createRedisClient, createRunStore, QUEUE_NAMES } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { Queue } from 'bullmq';

/** Every entry of bus:log, paged. */
export async function readWholeLog(bus) {
  const all = [];
  let after;
  for (;;) {
    const page = await bus.readLog({ count: 1000, ...(after === undefined ? {} : { after }) });
    all.push(...page);
    if (page.length < 1000) return all;
    after = page.at(-1)?.id;
  }
}

/** RESPONSE count per request id in bus:log. */
export async function responsesByRequest(bus) {
  const byRequest = new Map();
  for (const entry of await readWholeLog(bus)) {
    const m = entry.message;
    if (m?.type !== 'RESPONSE' || m.inReplyTo === undefined) continue;
    byRequest.set(m.inReplyTo, (byRequest.get(m.inReplyTo) ?? 0) + 1);
  }
  return byRequest;
}

/**
 * lost = sent but never answered; duplicated = answered more than once. `retries` maps a request
 * id to the ids of the new attempts published for it (as the Director retries a failed step): the
 * request counts as answered once if exactly one of its attempts was.
 */
export async function answerCounts(bus, sentIds, retries = new Map()) {
  const byRequest = await responsesByRequest(bus);
  let answered = 0;
  const lost = [];
  const duplicated = [];
  for (const id of sentIds) {
    const n = [id, ...(retries.get(id) ?? [])].reduce((sum, x) => sum + (byRequest.get(x) ?? 0), 0);
    if (n >= 1) answered++;
    if (n === 0) lost.push(id);
    if (n > 1) duplicated.push(id);
  }
  return { answered, lost, duplicated };
}

/** A REQUEST from the Director to a worker role (what the Director itself would publish). */
export function request(runId, to, content, extra = {}) {
  return {
    id: newId('msg'),
    runId,
    from: 'director',
    to,
    type: 'REQUEST',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content,
    ...extra,
  };
}

/** `n` requests spread over the worker roles, round robin. */
export function requestBatch(runId, n, label) {
  return Array.from({ length: n }, (_, i) => {
    const role = WORKER_ROLES[i % WORKER_ROLES.length];
    return request(runId, role, `${label} task ${i} for ${role}`);
  });
}

/**
 * Follows bus:log and counts RESPONSEs per request, live: used only to pace publishing and to
 * notice progress. Final verdicts re-read the log from Redis.
 */
export function answerTracker(bus) {
  const seen = new Map();
  const controller = new AbortController();
  let lastProgress = Date.now();
  const done = bus
    .tailLog(
      (entry) => {
        const m = entry.message;
        if (m?.type === 'RESPONSE' && m.inReplyTo !== undefined) {
          seen.set(m.inReplyTo, (seen.get(m.inReplyTo) ?? 0) + 1);
          lastProgress = Date.now();
        }
      },
      { from: '0-0', blockMs: 1000, signal: controller.signal },
    )
    .catch(() => undefined);
  return {
    has: (id) => seen.has(id),
    get answered() {
      return seen.size;
    },
    get idleMs() {
      return Date.now() - lastProgress;
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/**
 * Publishes `messages` keeping at most `maxOutstanding` unanswered, as the Director does: it
 * never floods the queues past the Sentinel's queue-depth rule (50 waiting = Level 3, pause all).
 * Resolves when all are published; `stopWhen()` true ends early.
 */
export async function publishPaced(
  bus,
  tracker,
  messages,
  { maxOutstanding = 40, stopWhen = () => false, stats = {} } = {},
) {
  let published = 0;
  for (const m of messages) {
    while (published - countAnswered(tracker, messages, published) >= maxOutstanding) {
      if (stopWhen()) return published;
      await new Promise((r) => setTimeout(r, 100));
    }
    await publishWithRetry(bus, m, stats);
    published++;
  }
  return published;
}

/**
 * publish() as a careful client does it: a failure (Redis restarting, a command past its retry
 * limit) is retried with backoff — safe because a REQUEST is idempotent by its id.
 */
export async function publishWithRetry(bus, message, stats = {}, attempts = 30) {
  for (let i = 1; ; i++) {
    try {
      return await bus.publish(message);
    } catch (error) {
      if (i >= attempts) throw error;
      stats.publishRetries = (stats.publishRetries ?? 0) + 1;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** i)));
    }
  }
}

function countAnswered(tracker, messages, upTo) {
  let n = 0;
  for (let i = 0; i < upTo; i++) if (tracker.has(messages[i].id)) n++;
  return n;
}

/** Every entry of every bus stream parses as a Message (no corruption after a crash or a restart). */
export async function streamIntegrity(bus) {
  const keys = [
    bus.keys.busLog,
    bus.keys.busTo('ALL'),
    ...['director', 'scribe', ...WORKER_ROLES].map((r) => bus.keys.busTo(r)),
  ];
  let entries = 0;
  const bad = [];
  for (const key of keys) {
    let start = '-';
    for (;;) {
      const page = await bus.redis.xrange(key, start, '+', 'COUNT', 1000);
      for (const [id, fields] of page) {
        entries++;
        const at = fields.indexOf('message');
        let ok = false;
        if (at >= 0 && at % 2 === 0) {
          try {
            ok = MessageSchema.safeParse(JSON.parse(fields[at + 1])).success;
          } catch {
            ok = false; // not JSON: counted as bad below
          }
        }
        if (!ok) bad.push(`${key} ${id}`);
      }
      if (page.length < 1000) break;
      start = `(${page.at(-1)[0]}`;
    }
  }
  return { entries, bad };
}

/** Every run's events parse and fold; returns each run's status. `store`: e.g. archive-aware. */
export async function foldRuns(bus, runIds, store = createRunStore(bus.redis, bus.keys)) {
  const ids = runIds ?? (await store.list(10_000));
  const runs = [];
  for (const runId of ids) {
    try {
      const events = (await store.read(runId)).map((e) => parseRunEvent(e.event));
      runs.push({ runId, status: fold(events).status, events });
    } catch (error) {
      runs.push({
        runId,
        status: 'unfoldable',
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return runs;
}

/** Phases started, in order (a run's shape, e.g. [1, 2, 3, 4]). */
export const phasesOf = (events) => events.filter((e) => e.type === 'phase.started').map((e) => e.phase);

/** BullMQ job counts of the named queues (default: every queue Nightshift has). */
export async function queueCounts(url, prefix, names) {
  const all = names ?? [
    QUEUE_NAMES.runs,
    QUEUE_NAMES.llm,
    QUEUE_NAMES.deadLetter,
    QUEUE_NAMES.agent('scribe'),
    ...WORKER_ROLES.map((r) => QUEUE_NAMES.agent(r)),
  ];
  const connection = createRedisClient(url, { maxRetriesPerRequest: null });
  const out = {};
  try {
    for (const name of all) {
      const queue = new Queue(name, { connection, prefix });
      queue.on('error', () => undefined);
      out[name] = await queue.getJobCounts();
      out[name].paused = await queue.isPaused();
      await queue.close();
    }
  } finally {
    connection.disconnect();
  }
  return out;
}

/** Jobs still waiting/active anywhere except the dead-letter queue: "nothing stuck" is 0. */
export function pendingWork(counts) {
  let n = 0;
  for (const [name, c] of Object.entries(counts)) {
    if (name === QUEUE_NAMES.deadLetter) continue;
    n +=
      (c.waiting ?? 0) +
      (c.active ?? 0) +
      (c.prioritized ?? 0) +
      (c.delayed ?? 0) +
      (c['waiting-children'] ?? 0);
  }
  return n;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What a failed scenario shows: queues (paused?), open alerts, each run's status and last events. */
export async function diagnose(world) {
  const out = {};
  try {
    out.queues = await queueCounts(world.redis.url, world.prefix);
    out.alerts = (await createAlertStore(world.bus.redis, world.keys).list({ limit: 50 })).map(
      (a) => `${a.status} L${a.level} ${a.rule} ${a.subject}: ${a.reason}`,
    );
    out.at = new Date().toISOString();
    out.runs = (await foldRuns(world.bus)).map((r) => ({
      runId: r.runId,
      status: r.status,
      last: (r.events ?? [])
        .slice(-6)
        .map(
          (e) =>
            `${e.type}${e.step ? `:${e.step}` : ''}${e.reason ? ` (${e.reason})` : ''}${e.at ? ` @${String(e.at).slice(11, 19)}` : ''}`,
        ),
    }));
  } catch (error) {
    out.error = error instanceof Error ? error.message : String(error);
  }
  return out;
}

/** Waits (bounded) until no queue holds work; a timeout becomes a note on the result, not a throw. */
export async function waitForDrain(world, result, timeoutMs) {
  await waitFor(async () => pendingWork(await queueCounts(world.redis.url, world.prefix)) === 0, {
    timeoutMs,
    intervalMs: 1000,
    what: 'the queues to drain',
  }).catch((error) => result.notes.push(String(error.message)));
}

/** The check every scenario makes at its end: each run's events fold. Returns the folds. */
export async function checkRunsFold(result, bus, { atLeastOne = false } = {}) {
  const folds = await foldRuns(bus);
  const ok = (!atLeastOne || folds.length > 0) && folds.every((r) => r.status !== 'unfoldable');
  result.checks.push({ name: 'every run folds', ok, detail: `${folds.length} runs` });
  return folds;
}
