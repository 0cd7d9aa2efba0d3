import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, type LoggerOptions, registerSecret, scrubText } from './logger.js';

const KEY = 'sk-ant-api03-Zx9_TESTKEY-abcdef0123456789';
const REDIS_PASSWORD = 'r3dis-Pa55word';

/** A destination that keeps every line. */
function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'trace',
    secrets: [KEY],
    destination: { write: (line: string) => lines.push(line) },
    ...options,
  });
  return { logger, lines, text: () => lines.join('') };
}

describe('logger output', () => {
  it('writes JSON lines with service, role and child bindings', () => {
    const { logger, lines } = capture({ role: 'builder' });
    logger.child({ runId: 'run-1' }).child({ jobId: 'job-9' }).info({ attempt: 2 }, 'started');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '');
    expect(line).toMatchObject({
      service: 'test',
      role: 'builder',
      runId: 'run-1',
      jobId: 'job-9',
      attempt: 2,
      msg: 'started',
      level: 30,
    });
    expect(typeof line.time).toBe('string');
  });

  it('respects the level', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines).toHaveLength(1);
  });
});

describe('no secret ever reaches a line', () => {
  it.each([
    ['in the message', (l: ReturnType<typeof capture>['logger']) => l.info(`calling with key ${KEY} now`)],
    ['in printf interpolation', (l: ReturnType<typeof capture>['logger']) => l.info('key=%s', KEY)],
    [
      'in a nested object',
      (l: ReturnType<typeof capture>['logger']) => l.info({ a: { b: { c: [`x ${KEY}`] } } }, 'nested'),
    ],
    [
      'in an error message',
      (l: ReturnType<typeof capture>['logger']) => l.error(new Error(`401 for ${KEY}`)),
    ],
    [
      'in an error cause',
      (l: ReturnType<typeof capture>['logger']) =>
        l.error({ err: new Error('outer', { cause: new Error(`inner ${KEY}`) }) }, 'failed'),
    ],
    ['in a field named apiKey', (l: ReturnType<typeof capture>['logger']) => l.info({ apiKey: KEY }, 'k')],
    [
      'in a deep apiKey field',
      (l: ReturnType<typeof capture>['logger']) =>
        l.info({ cfg: { anthropic: { apiKey: 'unregistered-key-value' } } }),
    ],
    ['in a child binding', (l: ReturnType<typeof capture>['logger']) => l.child({ note: KEY }).info('child')],
    [
      'as an x-api-key header',
      (l: ReturnType<typeof capture>['logger']) => l.info({ headers: { 'x-api-key': KEY } }),
    ],
  ])('%s', (_what, log) => {
    const c = capture();
    log(c.logger);
    expect(c.lines.length).toBeGreaterThan(0);
    expect(c.text()).not.toContain(KEY);
    expect(c.text()).not.toContain('unregistered-key-value');
    expect(c.text()).toContain('[REDACTED]');
    for (const line of c.lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('masks a Redis URL password in strings, keeping user and host', () => {
    const { logger, lines, text } = capture();
    logger.warn(
      { url: `redis://default:${REDIS_PASSWORD}@cache:6379/0` },
      `connect redis://:${REDIS_PASSWORD}@cache failed`,
    );
    expect(text()).not.toContain(REDIS_PASSWORD);
    const line = JSON.parse(lines[0] ?? '');
    expect(line.url).toBe('redis://default:***@cache:6379/0');
    expect(line.msg).toBe('connect redis://:***@cache failed');
  });

  it('masks a password with an unencoded @', () => {
    const { logger, text } = capture();
    logger.info('redis://user:pa@ss@cache:6379');
    expect(text()).not.toContain('pa@ss');
    expect(text()).not.toContain('ss@cache');
  });

  it('registerSecret reaches loggers created before the registration', () => {
    const { logger, text } = capture({ secrets: [] });
    const late = 'late-registered-secret-42';
    registerSecret(late);
    logger.info({ detail: `value ${late}` });
    expect(text()).not.toContain(late);
    expect(scrubText(`x ${late} redis://u:p@h`)).toBe('x [REDACTED] redis://u:***@h');
  });

  it('secrets that need JSON escaping are scrubbed too, and the line stays JSON', () => {
    const odd = 'quote"back\\slash\nnewline';
    const { logger, lines } = capture({ secrets: [odd] });
    logger.info({ odd }, `odd ${odd}`);
    const line = lines[0] ?? '';
    expect(line).not.toContain(JSON.stringify(odd).slice(1, -1));
    expect(JSON.parse(line)).toMatchObject({ odd: '[REDACTED]', msg: 'odd [REDACTED]' });
  });

  it('a numeric-looking secret does not corrupt numbers (only string contents are scrubbed)', () => {
    const { logger, lines } = capture({ secrets: ['30'] });
    logger.info({ note: 'port 30 open', count: 30 });
    const line = JSON.parse(lines[0] ?? '');
    expect(line.level).toBe(30);
    expect(line.note).toBe('port [REDACTED] open');
  });
});

describe('scrubbing edge cases', () => {
  it('a secret used as an object key is scrubbed', () => {
    const { logger, lines } = capture();
    logger.info({ byKey: { [KEY]: 1 } });
    expect(lines.join('')).not.toContain(KEY);
    expect(JSON.parse(lines[0] ?? '').byKey).toEqual({ '[REDACTED]': 1 });
  });

  it('ordinary fields that merely contain the word token are left alone', () => {
    const { logger, lines } = capture();
    logger.info({ maxTokens: 512, inputTokens: 3, role: 'scout' });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ maxTokens: 512, inputTokens: 3, role: 'scout' });
  });
});

describe('property: whatever is logged, the secret never appears and the line stays JSON', () => {
  it('holds for arbitrary nested values with the secret spliced into strings', () => {
    const withSecret = fc.tuple(fc.string(), fc.string()).map(([before, after]) => `${before}${KEY}${after}`);
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.string(), withSecret, fc.integer(), fc.boolean(), fc.constant(null)),
      node: fc.oneof(
        { depthSize: 'small' },
        tie('leaf'),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value, { maxKeys: 5 }), withSecret, (obj, msg) => {
        const { logger, lines } = capture();
        logger.info({ data: obj }, msg);
        const line = lines.join('');
        expect(line).not.toContain(KEY);
        expect(() => JSON.parse(line)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
