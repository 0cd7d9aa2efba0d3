import { describe, expect, it } from 'vitest';
import { decodeEntry, fieldsToRecord, toStreamBatches } from './entries.js';

const valid = {
  id: 'msg_1a',
  runId: 'run_1',
  from: 'builder',
  to: 'director',
  type: 'STATUS',
  priority: 'LOW',
  timestamp: '2026-01-28T03:45:00Z',
  content: 'done',
};

describe('decodeEntry', () => {
  it('accepts a valid message', () => {
    expect(decodeEntry({ message: JSON.stringify(valid) })).toEqual({ ok: true, message: valid });
  });

  it('names what is wrong with a bad entry', () => {
    expect(decodeEntry({})).toEqual({ ok: false, reason: 'entry has no "message" field (fields: none)' });
    expect(decodeEntry({ message: '{' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not JSON/),
    });
    const bad = decodeEntry({ message: JSON.stringify({ ...valid, type: 'GOSSIP' }) });
    expect(bad).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^message fails the schema: type: /),
    });
  });

  it('keeps reasons short even for huge input', () => {
    const huge = decodeEntry({ message: `{"x":${'1'.repeat(10_000)}` });
    expect(huge.ok).toBe(false);
    if (!huge.ok) expect(huge.reason.length).toBeLessThanOrEqual(1000);
  });
});

describe('stream replies', () => {
  it('turns field lists into records and tolerates nulls', () => {
    expect(fieldsToRecord(['a', '1', 'b', '2'])).toEqual({ a: '1', b: '2' });
    expect(fieldsToRecord(null)).toBeNull();
    expect(toStreamBatches(null)).toEqual([]);
    expect(
      toStreamBatches([
        [
          's',
          [
            ['1-0', ['message', 'x']],
            ['2-0', null],
          ],
        ],
      ]),
    ).toEqual([
      {
        stream: 's',
        entries: [
          { id: '1-0', fields: { message: 'x' } },
          { id: '2-0', fields: null },
        ],
      },
    ]);
  });
});
