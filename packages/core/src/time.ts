// Time as data: core never reads a clock, so every instant arrives as a parameter (ms or ISO 8601).
import { ValidationError } from '@nightshift/protocol';

/** An instant: epoch milliseconds, or an ISO 8601 string such as an event's `at`. */
export type Instant = number | string;

/** Epoch milliseconds of an instant; a non-finite number or an unparsable string is a ValidationError. */
export function toMs(instant: Instant, what = 'instant'): number {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  if (!Number.isFinite(ms)) {
    throw new ValidationError(what, [
      { path: what, expected: 'epoch milliseconds or an ISO 8601 date-time', received: String(instant) },
    ]);
  }
  return ms;
}

/** The later of two ISO instants (null counts as "never"); keeps the original string. */
export function laterIso(a: string | null, b: string): string {
  if (a === null) return b;
  return Date.parse(b) >= Date.parse(a) ? b : a;
}
