import type { Message } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { createKeys } from '../keys.js';
import { inboxCheck } from './index.js';

const keys = createKeys('{ns}');
const message = (to: Message['to']): Message => ({
  id: 'msg_1',
  runId: 'run_1',
  from: 'builder',
  to,
  type: 'STATUS',
  priority: 'NORMAL',
  timestamp: '2026-11-27T00:00:00.000Z',
  content: 'x',
});

describe('inboxCheck', () => {
  const check = inboxCheck(keys, 'director');

  it('accepts what is addressed to the inbox it sits in', () => {
    expect(check(message('director'), keys.busTo('director'))).toBeUndefined();
    expect(check(message('ALL'), keys.busTo('ALL'))).toBeUndefined();
  });

  it('names a misrouted entry: another role in our inbox, or a direct message in ALL', () => {
    expect(check(message('scout'), keys.busTo('director'))).toBe(
      `misrouted: a message to scout in ${keys.busTo('director')}`,
    );
    expect(check(message('director'), keys.busTo('ALL'))).toMatch(/^misrouted: a message to director in /);
    expect(check(message('ALL'), keys.busTo('director'))).toMatch(/^misrouted/);
  });
});
