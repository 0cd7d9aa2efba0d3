// The run archive file (issue 21 §2): one gzipped JSONL file per run, every line one record. The
// first line says what the file is, the last one how many records came before it, so a file cut
// short (a full disk, a copy interrupted) is recognised as such instead of being read as a shorter
// run. Keys are stored without the prefix, values as Redis returns them (lossless: a stream keeps
// its ids and repeated fields, a message its raw bus:log fields).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { NightshiftError } from '@nightshift/protocol';
import { z } from 'zod';

export const ARCHIVE_FORMAT = 'nightshift-run-archive';
export const ARCHIVE_VERSION = 1;

const fields = z.array(z.string());
const HeaderSchema = z.strictObject({
  kind: z.literal('run'),
  format: z.literal(ARCHIVE_FORMAT),
  version: z.literal(ARCHIVE_VERSION),
  runId: z.string().min(1),
  prefix: z.string(),
  archivedAt: z.string(),
  /** When the run ended (ISO), null when unknown. */
  endedAt: z.string().nullable(),
  /** The run's score in the runs index (its creation time in ms), null when it had none. */
  indexScore: z.number().nullable(),
});
const KeySchema = z.discriminatedUnion('type', [
  z.strictObject({
    kind: z.literal('key'),
    key: z.string(),
    ttlMs: z.number().nullable(),
    type: z.literal('string'),
    value: z.string(),
  }),
  z.strictObject({
    kind: z.literal('key'),
    key: z.string(),
    ttlMs: z.number().nullable(),
    type: z.literal('hash'),
    value: fields,
  }),
  z.strictObject({
    kind: z.literal('key'),
    key: z.string(),
    ttlMs: z.number().nullable(),
    type: z.literal('list'),
    value: fields,
  }),
  z.strictObject({
    kind: z.literal('key'),
    key: z.string(),
    ttlMs: z.number().nullable(),
    type: z.literal('set'),
    value: fields,
  }),
  /** Member, score, member, score… as ZRANGE WITHSCORES gives them. */
  z.strictObject({
    kind: z.literal('key'),
    key: z.string(),
    ttlMs: z.number().nullable(),
    type: z.literal('zset'),
    value: fields,
  }),
  z.strictObject({
    kind: z.literal('key'),
    key: z.string(),
    ttlMs: z.number().nullable(),
    type: z.literal('stream'),
    value: z.array(z.tuple([z.string(), fields])),
  }),
]);
const MessageRecordSchema = z.strictObject({ kind: z.literal('message'), logId: z.string(), fields });
const JobRecordSchema = z.strictObject({
  kind: z.literal('job'),
  queue: z.string(),
  id: z.string(),
  state: z.string(),
  job: z.record(z.string(), z.unknown()),
});
const EndSchema = z.strictObject({ kind: z.literal('end'), records: z.number().int().min(0) });
const BodySchema = z.union([KeySchema, MessageRecordSchema, JobRecordSchema]);

export type ArchiveHeader = z.infer<typeof HeaderSchema>;
export type ArchivedKey = z.infer<typeof KeySchema>;
export type ArchivedMessage = z.infer<typeof MessageRecordSchema>;
export type ArchivedJob = z.infer<typeof JobRecordSchema>;
export type ArchiveBody = z.infer<typeof BodySchema>;

/** Everything one archive file holds. */
export interface ArchiveContent {
  header: ArchiveHeader;
  keys: ArchivedKey[];
  messages: ArchivedMessage[];
  jobs: ArchivedJob[];
}

/** An archive that cannot be read: names the file and what is wrong with it. */
export class RunArchiveError extends NightshiftError {
  readonly file: string;
  constructor(file: string, problem: string, cause?: unknown) {
    super('RUN_ARCHIVE_UNREADABLE', `run archive ${file}: ${problem}`, {
      category: 'fatal',
      details: { file },
      ...(cause === undefined ? {} : { cause }),
    });
    this.file = file;
  }
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export function encodeArchive(content: ArchiveContent): string {
  const body: ArchiveBody[] = [...content.keys, ...content.messages, ...content.jobs];
  const lines = [content.header, ...body, { kind: 'end', records: body.length }];
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

/** Parses the JSONL text of an archive; `file` names it in every error. */
export function decodeArchive(text: string, file: string): ArchiveContent {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const parse = (line: string, n: number): unknown => {
    try {
      return JSON.parse(line);
    } catch (error) {
      throw new RunArchiveError(file, `line ${n} is not JSON (${(error as Error).message})`, error);
    }
  };
  const header = HeaderSchema.safeParse(lines.length > 0 ? parse(lines[0] as string, 1) : undefined);
  if (!header.success)
    throw new RunArchiveError(file, `line 1 is not a ${ARCHIVE_FORMAT} v${ARCHIVE_VERSION} header`);
  const end = EndSchema.safeParse(lines.length > 1 ? parse(lines.at(-1) as string, lines.length) : undefined);
  if (!end.success || end.data.records !== lines.length - 2)
    throw new RunArchiveError(
      file,
      `truncated: the closing record is missing or counts ${end.success ? end.data.records : 'nothing'} of ${Math.max(0, lines.length - 2)} records`,
    );
  const content: ArchiveContent = { header: header.data, keys: [], messages: [], jobs: [] };
  for (let i = 1; i < lines.length - 1; i++) {
    const record = BodySchema.safeParse(parse(lines[i] as string, i + 1));
    if (!record.success) throw new RunArchiveError(file, `line ${i + 1} is not a key, message or job record`);
    const r = record.data;
    if (r.kind === 'key') content.keys.push(r);
    else if (r.kind === 'message') content.messages.push(r);
    else content.jobs.push(r);
  }
  return content;
}

/** Reads and checks one archive file; a missing file is ENOENT, anything unreadable a RunArchiveError. */
export async function readArchiveFile(file: string): Promise<ArchiveContent> {
  const compressed = await readFile(file);
  let text: string;
  try {
    text = (await gunzipAsync(compressed)).toString('utf8');
  } catch (error) {
    throw new RunArchiveError(file, `not a complete gzip file (${(error as Error).message})`, error);
  }
  return decodeArchive(text, file);
}

/**
 * Writes the archive durably: a temporary file in the same folder, fsynced, renamed into place,
 * then the folder fsynced, so after this returns the file survives a crash of the machine and a
 * crash before it leaves no half-written archive under the final name.
 */
export async function writeArchiveFile(file: string, content: ArchiveContent): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const data = await gzipAsync(Buffer.from(encodeArchive(content), 'utf8'));
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
