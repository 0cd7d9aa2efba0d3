// Time-sortable, BullMQ-safe ids (`msg_…`, `run_…`): a millisecond timestamp then randomness.
import { randomBytes } from 'node:crypto';

export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}
