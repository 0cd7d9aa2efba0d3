// Option parsers shared by commands: each refusal names the expected form, and commander adds
// the option's name, so every usage error says which option and what it accepts.
import { IdSchema } from '@nightshift/protocol';
import { InvalidArgumentError } from 'commander';

export function parseId(value: string): string {
  const result = IdSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidArgumentError(`Expected an id of letters, digits, "_", "." or "-" (not all digits).`);
  }
  return result.data;
}

/** A bus:log entry id (`1700000000000-0`) or a bare millisecond timestamp. */
export function parseStreamId(value: string): string {
  if (!/^\d+(-\d+)?$/.test(value)) {
    throw new InvalidArgumentError(
      'Expected a log entry id like 1700000000000-0 (or a millisecond timestamp).',
    );
  }
  return value;
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number.parseInt(value, 10) < 1) {
    throw new InvalidArgumentError('Expected a whole number of at least 1.');
  }
  return Number.parseInt(value, 10);
}
