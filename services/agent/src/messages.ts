// The messages an agent publishes about a request: STATUS while working, the RESPONSE, and an
// ALERT on failure. Routing fields are always set here, never taken from model output.
import type { ModelReply } from '@nightshift/llm';
import {
  checkRoute,
  isRole,
  type Message,
  newId,
  type Role,
  responseIdFor,
  type WorkerRole,
} from '@nightshift/protocol';

/** Derived from the request id (protocol), so every attempt at one request names the same answer. */
export { responseIdFor };

/**
 * Who gets the answer: the sender when the topology lets this role answer it directly (guide §5:
 * Scout answers anyone; peers answer peers in review), otherwise the Director, to whom every
 * agent reports. `human`/`system` senders are not recipients, so their answers go to the Director.
 */
export function replyTarget(role: WorkerRole, request: Message): Role {
  if (isRole(request.from) && request.from !== role) {
    const route = checkRoute({ from: role, to: request.from, type: 'RESPONSE', ...phaseOf(request) });
    if (route.ok) return request.from;
  }
  return 'director';
}

function phaseOf(request: Message): { phase?: number } {
  return request.phase === undefined ? {} : { phase: request.phase };
}

interface Common {
  role: WorkerRole;
  request: Message;
  attempt: number;
  now?: Date;
}

function base(
  c: Common,
): Pick<Message, 'runId' | 'from' | 'timestamp' | 'inReplyTo' | 'attempt'> & { phase?: number } {
  return {
    runId: c.request.runId,
    from: c.role,
    timestamp: (c.now ?? new Date()).toISOString(),
    inReplyTo: c.request.id,
    attempt: Math.min(c.attempt, 1000),
    ...phaseOf(c.request),
  };
}

export function statusMessage(c: Common): Message {
  const firstLine = c.request.content.split('\n').find((l) => l.trim() !== '') ?? '';
  return {
    id: newId('msg'),
    ...base(c),
    to: 'director',
    type: 'STATUS',
    priority: 'NORMAL',
    content: `Working on ${c.request.id} (attempt ${c.attempt}): ${firstLine.slice(0, 200)}`,
  };
}

/** One tool call, as the Director (and anyone reading bus:log) sees it (issue 6 §3). */
export function toolStatusMessage(c: Common & { line: string }): Message {
  return {
    id: newId('msg'),
    ...base(c),
    to: 'director',
    type: 'STATUS',
    priority: 'LOW',
    content: c.line.slice(0, 1000),
    context: `tool call while working on ${c.request.id}`,
  };
}

export function responseMessage(c: Common & { reply: ModelReply }): Message {
  const message: Message = {
    id: responseIdFor(c.request.id),
    ...base(c),
    to: replyTarget(c.role, c.request),
    type: 'RESPONSE',
    priority: c.request.priority,
    content: c.reply.content,
  };
  if (c.reply.context !== undefined) message.context = c.reply.context;
  if (c.reply.expectedResponse !== undefined) message.expectedResponse = c.reply.expectedResponse;
  return message;
}

export function alertMessage(c: Common & { reason: string; code: string }): Message {
  return {
    id: newId('msg'),
    ...base(c),
    to: 'director',
    type: 'ALERT',
    // A role timeout or a failed task needs the Director's attention, not an emergency (guide §4 L1).
    priority: 'HIGH',
    content: `${c.role} failed request ${c.request.id} (attempt ${c.attempt}): ${c.reason}`.slice(0, 4000),
    context: `code: ${c.code}`,
    expectedResponse: 'Reassign, retry or drop the task (guide §4, level 1).',
  };
}
