import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeys } from '../keys.js';
import {
  type ArchiveContent,
  decodeArchive,
  encodeArchive,
  RunArchiveError,
  readArchiveFile,
  writeArchiveFile,
} from './format.js';
import { openRunArchive } from './reader.js';

const dir = mkdtempSync(join(tmpdir(), 'ns-archive-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keys = createKeys('{t-fmt}');
const message = {
  id: 'msg_1',
  runId: 'run_x',
  from: 'director',
  to: 'ALL',
  type: 'STATUS',
  priority: 'NORMAL',
  timestamp: '2026-01-01T00:00:00.000Z',
  content: 'hello',
};
const content: ArchiveContent = {
  header: {
    kind: 'run',
    format: 'nightshift-run-archive',
    version: 1,
    runId: 'run_x',
    prefix: '{t-fmt}',
    archivedAt: '2026-01-02T00:00:00.000Z',
    endedAt: '2026-01-01T01:00:00.000Z',
    indexScore: 1767225600000,
  },
  keys: [
    {
      kind: 'key',
      key: 'run:run_x:events',
      type: 'stream',
      ttlMs: null,
      value: [['1-0', ['v', '1', 'event', '{"type":"run.created"}']]],
    },
    { kind: 'key', key: 'run:run_x:meta', type: 'hash', ttlMs: null, value: ['version', '1'] },
    { kind: 'key', key: 'run:run_x:checkpoints', type: 'list', ttlMs: null, value: ['{"n":1}', '{"n":2}'] },
    { kind: 'key', key: 'published:msg_1', type: 'string', ttlMs: 5000, value: '1-1' },
  ],
  messages: [{ kind: 'message', logId: '1-1', fields: ['message', JSON.stringify(message)] }],
  jobs: [{ kind: 'job', queue: 'runs', id: 'x', state: 'completed', job: { id: 'x', name: 'run' } }],
};

describe('run archive format', () => {
  it('round-trips every record through a gzipped file, and reads back like the Redis keys', async () => {
    const file = join(dir, 'run_x.jsonl.gz');
    await writeArchiveFile(file, content);
    expect(await readArchiveFile(file)).toEqual(content);
    // Written through a temporary file: nothing but the archive is left in the folder.
    expect(readdirSync(dir)).toEqual(['run_x.jsonl.gz']);
    const run = await openRunArchive(dir, keys).read('run_x');
    expect(run?.stream(keys.runEvents('run_x'))).toEqual([
      ['1-0', ['v', '1', 'event', '{"type":"run.created"}']],
    ]);
    expect(run?.field(keys.runMeta('run_x'), 'version')).toBe('1');
    expect(run?.list(keys.runCheckpoints('run_x'))).toEqual(['{"n":1}', '{"n":2}']);
    expect(run?.messages()).toEqual([message]);
    expect(await openRunArchive(dir, keys).list()).toEqual([
      { runId: 'run_x', archivedAt: expect.any(Number) },
    ]);
  });

  it('has no archive for a run never archived, and refuses a run id that is not one', async () => {
    const archive = openRunArchive(dir, keys);
    expect(await archive.read('run_missing')).toBeUndefined();
    expect(await archive.read('../etc/passwd')).toBeUndefined();
    expect(() => archive.file('../escape')).toThrow(/runId: expected a run id/);
  });

  it('a truncated archive is an error naming the file, never a shorter run', async () => {
    const text = encodeArchive(content);
    const cut = text.split('\n').slice(0, 3).join('\n');
    expect(() => decodeArchive(cut, 'cut.jsonl.gz')).toThrow(RunArchiveError);
    expect(() => decodeArchive(cut, 'cut.jsonl.gz')).toThrow(/run archive cut.jsonl.gz: truncated/);
    // A gzip stream cut short is named the same way.
    const file = join(dir, 'run_cut.jsonl.gz');
    const whole = readFileSync(join(dir, 'run_x.jsonl.gz'));
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(readArchiveFile(file)).rejects.toThrow(`run archive ${file}: not a complete gzip file`);
    await expect(openRunArchive(dir, keys).read('run_cut')).rejects.toMatchObject({
      code: 'RUN_ARCHIVE_UNREADABLE',
      file,
    });
  });

  it('a corrupt line or a foreign file is an error naming the file and the line', async () => {
    const lines = encodeArchive(content).split('\n');
    lines[2] = '{not json';
    expect(() => decodeArchive(lines.join('\n'), 'bad.gz')).toThrow(/run archive bad.gz: line 3 is not JSON/);
    lines[2] = JSON.stringify({ kind: 'key', key: 'x', type: 'teapot', ttlMs: null, value: 1 });
    expect(() => decodeArchive(lines.join('\n'), 'bad.gz')).toThrow(
      /line 3 is not a key, message or job record/,
    );
    const foreign = join(dir, 'run_foreign.jsonl.gz');
    writeFileSync(foreign, gzipSync('{"hello":"world"}\n'));
    await expect(readArchiveFile(foreign)).rejects.toThrow(
      `run archive ${foreign}: line 1 is not a nightshift-run-archive v1 header`,
    );
  });
});
