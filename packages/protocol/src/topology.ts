// The guide's communication topology (§5 "Communication Topology", "Rules") as data, enforced
// on publish: a message that breaks it is refused with a TopologyViolation, never sent.
import { TopologyViolation } from './errors.js';
import type { Message, MessageType } from './message.js';
import type { Recipient, Sender } from './roles.js';

/** One permission: these senders may send these types to these recipients (optionally only in some phases). */
export interface RouteRule {
  readonly why: string;
  readonly from: readonly Sender[];
  readonly to: readonly Recipient[];
  readonly types: readonly MessageType[];
  /** When set, the message must carry one of these phases (or none at all). */
  readonly phases?: readonly number[];
}

const WORKERS = ['architect', 'scout', 'builder', 'refactorer', 'inspector', 'scribe'] as const;
const PEERS = ['builder', 'refactorer', 'inspector'] as const;
const AGENTS = ['director', ...WORKERS] as const;
/** Roles that consume a queue `agent.<role>` and can therefore receive REQUESTs. */
const REQUESTABLE = ['architect', 'scout', 'builder', 'refactorer', 'inspector', 'scribe'] as const;

export const TOPOLOGY: readonly RouteRule[] = [
  {
    why: 'all agents report to the Director',
    from: WORKERS,
    to: ['director'],
    types: ['STATUS', 'RESPONSE', 'ALERT'],
  },
  {
    why: 'the Director directs: requests, statuses and decisions to anyone',
    from: ['director'],
    to: REQUESTABLE,
    types: ['REQUEST', 'STATUS', 'DECISION', 'ALERT'],
  },
  {
    why: 'the Director broadcasts decisions and statuses to all',
    from: ['director'],
    to: ['ALL'],
    types: ['DECISION', 'STATUS', 'ALERT'],
  },
  {
    why: 'any agent may announce its status to all',
    from: WORKERS,
    to: ['ALL'],
    types: ['STATUS'],
  },
  {
    why: 'Scout can be queried by anyone',
    from: ['director', 'architect', 'builder', 'refactorer', 'inspector', 'human', 'system'],
    to: ['scout'],
    types: ['REQUEST'],
  },
  {
    why: 'Scout answers whoever queried it',
    from: ['scout'],
    to: AGENTS,
    types: ['RESPONSE'],
  },
  {
    why: 'Builder, Refactorer and Inspector talk peer-to-peer during review',
    from: PEERS,
    to: PEERS,
    types: ['STATUS', 'REQUEST', 'RESPONSE', 'ALERT'],
    phases: [3],
  },
  {
    why: 'a human may decide and inform anyone',
    from: ['human'],
    to: [...AGENTS, 'ALL'],
    types: ['STATUS', 'DECISION'],
  },
  {
    why: 'a human may hand work to any worker',
    from: ['human'],
    to: REQUESTABLE,
    types: ['REQUEST'],
  },
  {
    why: 'the runtime and the watchdog raise alerts and statuses to anyone',
    from: ['system', 'sentinel'],
    to: [...AGENTS, 'ALL'],
    types: ['STATUS', 'ALERT'],
  },
  {
    why: 'operators may hand work to any worker through the runtime',
    from: ['system'],
    to: REQUESTABLE,
    types: ['REQUEST'],
  },
];

export type RouteCheck = { ok: true; rule: RouteRule } | { ok: false; error: TopologyViolation };

function matches(rule: RouteRule, from: Sender, to: Recipient, type: MessageType, phase?: number): boolean {
  if (!rule.from.includes(from) || !rule.to.includes(to) || !rule.types.includes(type)) return false;
  return rule.phases === undefined || phase === undefined || rule.phases.includes(phase);
}

/** Is this route allowed? Returns the rule that allows it, or a TopologyViolation saying why not. */
export function checkRoute(
  message: Pick<Message, 'from' | 'to' | 'type'> & { phase?: number | undefined },
): RouteCheck {
  const { from, to, type, phase } = message;
  if (from === to) {
    return { ok: false, error: violation(`${from} may not send messages to itself`, message) };
  }
  const rule = TOPOLOGY.find((r) => matches(r, from, to, type, phase));
  if (rule) return { ok: true, rule };
  const reason = explain(from, to, type, phase);
  return { ok: false, error: violation(reason, message) };
}

/** Like checkRoute but throws the TopologyViolation. */
export function assertRoute(
  message: Pick<Message, 'from' | 'to' | 'type'> & { phase?: number | undefined },
): void {
  const result = checkRoute(message);
  if (!result.ok) throw result.error;
}

function explain(from: Sender, to: Recipient, type: MessageType, phase?: number): string {
  if (type === 'DECISION') return `only the Director (or a human) may send DECISION; ${from} may not`;
  if (type === 'REQUEST' && to === 'ALL') return 'a REQUEST is work for one agent and cannot go to ALL';
  if (type === 'REQUEST' && to === 'director')
    return 'the Director takes no REQUESTs; report with STATUS, RESPONSE or ALERT';
  const peer = (r: string) => (PEERS as readonly string[]).includes(r);
  if (peer(from) && peer(to) && phase !== undefined && phase !== 3) {
    return `${from} and ${to} talk peer-to-peer only during review (phase 3), not phase ${phase}`;
  }
  if (from === 'architect')
    return `the Architect advises the Director but does not direct (${type} to ${to})`;
  return `${from} may not send ${type} to ${to}`;
}

function violation(
  reason: string,
  message: { from: Sender; to: Recipient; type: MessageType },
): TopologyViolation {
  return new TopologyViolation(`topology violation: ${reason}`, {
    from: message.from,
    to: message.to,
    type: message.type,
  });
}
