// Inputs for the fuzz scenario, generated with fast-check and classified by the protocol's own
// validators (so the expected outcome of each is computed, never guessed): raw stream entries,
// queue job payloads, and objects handed to publish().
import { checkRoute, MessageSchema, ROLES, RunInputSchema, WORKER_ROLES } from '@nightshift/protocol';
import { QUEUE_NAMES } from '@nightshift/redis';
import fc from 'fast-check';

const SENDERS = [...ROLES, 'human', 'system', 'sentinel'];
const RECIPIENTS = [...ROLES, 'ALL'];
const TYPES = ['STATUS', 'REQUEST', 'RESPONSE', 'DECISION', 'ALERT'];
const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'EMERGENCY'];
/** A handful of run ids, so valid fuzz messages do not create thousands of runs in the Scribe. */
const RUN_IDS = ['run_fuzz_a', 'run_fuzz_b', 'run_fuzz_c'];

const idArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,20}$/);

/** A message that passes the schema (its route may or may not be allowed). */
export const messageArb = fc.record(
  {
    id: idArb.map((s) => `fz_${s}`),
    runId: fc.constantFrom(...RUN_IDS),
    from: fc.constantFrom(...SENDERS),
    to: fc.constantFrom(...RECIPIENTS),
    type: fc.constantFrom(...TYPES),
    priority: fc.constantFrom(...PRIORITIES),
    timestamp: fc
      .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    content: fc.string({ maxLength: 200 }),
    context: fc.string({ maxLength: 100 }),
    inReplyTo: idArb.map((s) => `fz_${s}`),
    phase: fc.integer({ min: 1, max: 4 }),
    attempt: fc.integer({ min: 1, max: 5 }),
  },
  { requiredKeys: ['id', 'runId', 'from', 'to', 'type', 'priority', 'timestamp', 'content'] },
);

/** One field made wrong on purpose: each of these breaks the schema. */
const BREAKS = [
  (m) => ({ ...m, id: 'has:colon' }),
  (m) => ({ ...m, id: '12345' }),
  (m) => ({ ...m, id: '' }),
  (m) => ({ ...m, from: 'wizard' }),
  (m) => ({ ...m, to: 'everyone' }),
  (m) => ({ ...m, type: 'SHOUT' }),
  (m) => ({ ...m, priority: 'URGENT' }),
  (m) => ({ ...m, timestamp: 'yesterday' }),
  (m) => ({ ...m, phase: 7 }),
  (m) => ({ ...m, attempt: 0 }),
  (m) => ({ ...m, content: 42 }),
  (m) => ({ ...m, evil: true }),
  (m) => {
    const { content: _dropped, ...rest } = m;
    return rest;
  },
  (m) => ({ ...m, runId: '../../etc/passwd' }),
];

/** Messages with a broken field, anything JSON, and schema-valid messages (allowed or not). */
export const payloadArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(messageArb, fc.integer({ min: 0, max: BREAKS.length - 1 }))
      .map(([m, i]) => BREAKS[i](m)),
  },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: messageArb },
);

/** Raw stream entry fields: no `message` field, a non-JSON one, or a JSON payload. */
export const entryArb = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== 'message'),
      fc.string({ maxLength: 40 }),
      { minKeys: 1, maxKeys: 3 },
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 80 })
      .filter((s) => !isJson(s))
      .map((s) => ({ message: s })),
  },
  { weight: 6, arbitrary: payloadArb.map((p) => ({ message: JSON.stringify(p) })) },
);

function isJson(s) {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false; // not JSON: exactly what this generator wants
  }
}

/** The schema-valid message inside raw fields, or undefined. */
export function messageOf(fields) {
  if (typeof fields.message !== 'string') return undefined;
  let json;
  try {
    json = JSON.parse(fields.message);
  } catch {
    return undefined; // not JSON: no message
  }
  const parsed = MessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export function routeAllowed(m) {
  const { from, to, type, phase } = m;
  return checkRoute(phase === undefined ? { from, to, type } : { from, to, type, phase }).ok;
}

/**
 * The consumer groups of a stream and what each must do with the entry: `director` reads its
 * inbox and ALL and refuses what fails the schema or the topology; on bus:log `scribe` checks only
 * the schema and `sentinel` also the topology. Worker and scribe inboxes have no reader. Returns
 * group → true (must dead-letter) / false (handles it); `misrouted` marks valid messages written
 * into an inbox they are not addressed to (the Director's consumer does not check the address).
 */
export function expectedRejections(streamName, fields, { sentinel }) {
  const m = messageOf(fields);
  // Every inbox consumer (the Director's, and each worker agent's on its inbox and ALL) refuses
  // what does not parse, breaks the topology, or is addressed to someone else (misrouted).
  const refused = !m || !routeAllowed(m) || m.to !== streamName;
  if (streamName === 'ALL') {
    return Object.fromEntries(['director', ...WORKER_ROLES].map((group) => [group, refused]));
  }
  if (streamName === 'director' || WORKER_ROLES.includes(streamName)) return { [streamName]: refused };
  if (streamName === 'log') {
    const out = { scribe: !m };
    if (sentinel) out.sentinel = !m || !routeAllowed(m);
    return out;
  }
  return {};
}

/** True when a job payload would be real work on `agent.<role>` (those are not injected raw). */
export function isValidAgentJob(role, data) {
  const parsed = MessageSchema.safeParse(data);
  return (
    parsed.success && parsed.data.type === 'REQUEST' && parsed.data.to === role && routeAllowed(parsed.data)
  );
}

export function isValidRunJob(data) {
  return RunInputSchema.safeParse(data).success;
}

/** Where raw entries go (by weight): the Director's inbox, ALL and bus:log most, the other inboxes too. */
export const STREAMS = [
  { name: 'director', weight: 3 },
  { name: 'ALL', weight: 2 },
  { name: 'log', weight: 3 },
  ...['scribe', ...WORKER_ROLES].map((name) => ({ name, weight: 0.35 })),
];
/** Where raw jobs go (by weight): every queue Nightshift has but `dead-letter`. */
export const QUEUES = [
  ...WORKER_ROLES.map((role) => ({ name: QUEUE_NAMES.agent(role), role, weight: 1.2 })),
  { name: QUEUE_NAMES.agent('scribe'), role: 'scribe', weight: 1 },
  { name: QUEUE_NAMES.runs, weight: 1.5 },
  { name: QUEUE_NAMES.llm, weight: 1.5 },
];

/** A weighted choice from `list` for r in [0, 1). */
export function pick(list, r) {
  const total = list.reduce((s, x) => s + x.weight, 0);
  let at = r * total;
  for (const x of list) {
    at -= x.weight;
    if (at <= 0) return x;
  }
  return list.at(-1);
}

/** Deterministic pseudo-random in [0, 1) from a seed (mulberry32), so a run can be repeated. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sample(arb, n, seed) {
  return fc.sample(arb, { numRuns: n, seed });
}
