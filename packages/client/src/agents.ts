// Pausing and resuming an agent's work queue (`agent.<role>`): BullMQ's global pause, so every
// worker of that role, in any process, stops taking new jobs; the job in hand finishes.
import { ROLES, type Role, ValidationError, WORKER_ROLES } from '@nightshift/protocol';
import { QUEUE_NAMES } from '@nightshift/redis';
import type { ControlParts } from './parts.js';

/** Roles with a work queue: the five workers and the Scribe (the Director works queue `runs`). */
export const AGENT_QUEUE_ROLES = [...WORKER_ROLES, 'scribe'] as const;
/** A role with a queue of its own ({@link AGENT_QUEUE_ROLES}). */
export type AgentQueueRole = (typeof AGENT_QUEUE_ROLES)[number];

/** Whether `value` names a role with a queue of its own. */
export function isAgentQueueRole(value: unknown): value is AgentQueueRole {
  return typeof value === 'string' && (AGENT_QUEUE_ROLES as readonly string[]).includes(value);
}

/**
 * `value` as a role with a queue.
 * @throws ValidationError on field `role` naming the roles allowed (the Director has no queue: pause a run instead).
 */
export function parseAgentRole(value: unknown): AgentQueueRole {
  if (isAgentQueueRole(value)) return value;
  const why =
    value === 'director'
      ? 'the Director has no agent queue (pause a run instead)'
      : `one of ${AGENT_QUEUE_ROLES.join(', ')}`;
  throw new ValidationError('agent role', [{ path: 'role', expected: why, received: String(value) }]);
}

/** The queue of a role, or null for the Director. */
export function agentQueueName(role: Role): string | null {
  return isAgentQueueRole(role) ? QUEUE_NAMES.agent(role) : null;
}

/** The outcome of pausing or resuming an agent's queue. */
export interface AgentQueueResult {
  role: AgentQueueRole;
  queue: string;
  paused: boolean;
  /** False when the queue already was in that state. */
  changed: boolean;
}

async function setPaused(parts: ControlParts, roleInput: unknown, pause: boolean): Promise<AgentQueueResult> {
  const role = parseAgentRole(roleInput);
  const name = QUEUE_NAMES.agent(role);
  const queue = parts.queue(name);
  const before = await queue.isPaused();
  if (before !== pause) await (pause ? queue.pause() : queue.resume());
  return { role, queue: name, paused: pause, changed: before !== pause };
}

export function pauseAgent(parts: ControlParts, role: unknown): Promise<AgentQueueResult> {
  return setPaused(parts, role, true);
}

export function resumeAgent(parts: ControlParts, role: unknown): Promise<AgentQueueResult> {
  return setPaused(parts, role, false);
}

/** Every role in the guide's order, for views that show all seven. */
export const ALL_ROLES: readonly Role[] = ROLES;
