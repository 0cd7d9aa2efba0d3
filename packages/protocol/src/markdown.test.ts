import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageParseError } from './errors.js';
import { parse, render } from './markdown.js';
import { MESSAGE_TYPES, type Message, MessageSchema, PRIORITIES } from './message.js';
import { OUTPUT_KINDS } from './outputs.js';
import { EXTERNAL_SENDERS, ROLES } from './roles.js';

const idArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/).filter((s) => !/^\d+$/.test(s));
const textArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '\n', '### Content', '\\### Context', 'a\n\n### Expected Response\nb', '\\', '\r\n'),
  fc
    .array(fc.constantFrom('### Context', '', '\\x', 'FROM: Builder', 'text', '###'), { maxLength: 6 })
    .map((l) => l.join('\n')),
);
const timestampArb = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

const messageArb: fc.Arbitrary<Message> = fc
  .record(
    {
      id: idArb,
      runId: idArb,
      from: fc.constantFrom(...ROLES, ...EXTERNAL_SENDERS),
      to: fc.constantFrom(...ROLES, 'ALL' as const),
      type: fc.constantFrom(...MESSAGE_TYPES),
      priority: fc.constantFrom(...PRIORITIES),
      timestamp: timestampArb,
      content: textArb,
      context: textArb,
      expectedResponse: textArb,
      inReplyTo: idArb,
      phase: fc.integer({ min: 1, max: 4 }),
      attempt: fc.integer({ min: 1, max: 1000 }),
      output: fc.constantFrom(...OUTPUT_KINDS),
    },
    { requiredKeys: ['id', 'runId', 'from', 'to', 'type', 'priority', 'timestamp', 'content'] },
  )
  .map((m) => MessageSchema.parse(m));

const example: Message = {
  id: 'msg_1',
  runId: 'run_1',
  from: 'builder',
  to: 'ALL',
  type: 'STATUS',
  priority: 'NORMAL',
  timestamp: '2026-01-28T03:45:00Z',
  content: 'Completed auth module implementation. Ready for review.',
  context: "Used JWT approach as recommended by Scout's research.",
  expectedResponse: 'Inspector and Refactorer to begin review phase.',
};

describe('render', () => {
  it('writes the guide example in the guide format', () => {
    expect(render(example)).toBe(
      [
        'FROM: Builder',
        'TO: ALL',
        'TYPE: STATUS',
        'PRIORITY: NORMAL',
        'TIMESTAMP: 2026-01-28T03:45:00Z',
        'ID: msg_1',
        'RUN: run_1',
        '',
        '### Content',
        'Completed auth module implementation. Ready for review.',
        '',
        '### Context',
        "Used JWT approach as recommended by Scout's research.",
        '',
        '### Expected Response',
        'Inspector and Refactorer to begin review phase.',
        '',
      ].join('\n'),
    );
  });
});

describe('parse', () => {
  it('is the exact inverse of render for any valid message', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(parse(render(m))).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but MessageParseError on arbitrary strings', () => {
    const near = fc.tuple(messageArb, fc.nat(), fc.string({ maxLength: 5 })).map(([m, cut, junk]) => {
      const text = render(m);
      const at = cut % (text.length + 1);
      return text.slice(0, at) + junk + text.slice(at + 1);
    });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), near), (text) => {
        try {
          MessageSchema.parse(parse(text));
        } catch (error) {
          expect(error).toBeInstanceOf(MessageParseError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts model output without wire fields when defaults are given', () => {
    const md = [
      '## Agent Message',
      'FROM: Inspector',
      'TO: Director',
      'TYPE: ALERT',
      'PRIORITY: EMERGENCY',
      '',
      '### Content',
      'Password hashing uses MD5 instead of bcrypt.',
      '',
    ].join('\n');
    const m = parse(md, { id: 'msg_x', runId: 'run_x', timestamp: '2026-01-28T04:12:00Z' });
    expect(m).toMatchObject({ from: 'inspector', to: 'director', type: 'ALERT', priority: 'EMERGENCY' });
    expect(m.content).toBe('Password hashing uses MD5 instead of bcrypt.');
  });

  it.each([
    [
      'FROM: Nobody\nTO: ALL\nTYPE: STATUS\nPRIORITY: LOW\nTIMESTAMP: 2026-01-01T00:00:00Z\nID: a\nRUN: b\n\n### Content\nx\n',
      1,
      /unknown sender/,
    ],
    [
      'FROM: Builder\nTO: ALL\nTYPE: GOSSIP\nPRIORITY: LOW\nTIMESTAMP: 2026-01-01T00:00:00Z\nID: a\nRUN: b\n\n### Content\nx\n',
      3,
      /TYPE/,
    ],
    [
      'FROM: Builder\nTO: ALL\nTYPE: STATUS\nPRIORITY: LOW\nTIMESTAMP: yesterday\nID: a\nRUN: b\n\n### Content\nx\n',
      5,
      /TIMESTAMP/,
    ],
    [
      'FROM: Builder\nTO: ALL\nTYPE: STATUS\nPRIORITY: LOW\nTIMESTAMP: 2026-01-01T00:00:00Z\nID: 123\nRUN: b\n\n### Content\nx\n',
      6,
      /ID/,
    ],
    ['FROM: Builder\nwhat is this\n', 2, /header line/],
    [
      'FROM: Builder\nTO: ALL\nTYPE: STATUS\nPRIORITY: LOW\nTIMESTAMP: 2026-01-01T00:00:00Z\nID: a\nRUN: b\n',
      8,
      /Content/,
    ],
    ['FROM: Builder\nTO: ALL\nPHASE: two\n', 3, /PHASE/],
  ])('names the bad line (%#)', (text, line, reason) => {
    try {
      parse(text);
      expect.unreachable('parse should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(MessageParseError);
      expect((error as MessageParseError).line).toBe(line);
      expect((error as MessageParseError).message).toMatch(reason);
    }
  });
});
