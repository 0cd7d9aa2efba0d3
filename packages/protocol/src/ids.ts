// Time-sortable, BullMQ-safe ids (`msg_…`, `run_…`): a millisecond timestamp then randomness.
import { createHash, randomBytes } from 'node:crypto';

export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}

/**
 * The RESPONSE id of a request: derived from the request id, so every attempt at one request
 * names the same answer (the bus publishes an id once), and anyone holding a request id can ask
 * the bus whether it was answered. Ids are at most 128 characters; long request ids are hashed.
 */
export function responseIdFor(requestId: string): string {
  const direct = `rsp_${requestId}`;
  return direct.length <= 128
    ? direct
    : `rsp_${createHash('sha256').update(requestId).digest('hex').slice(0, 40)}`;
}
