// Reading raw stream replies: field arrays to records, and the one `message` field to a
// validated Message or the reason it is not one (which then becomes a dead-letter reason).
import { describeProblems, type Message, MessageSchema, problemsFrom } from '@nightshift/protocol';

export type RawFields = Record<string, string>;

/** One entry of an XRANGE/XREAD/XREADGROUP/XAUTOCLAIM reply; `fields` null = entry deleted. */
export interface RawEntry {
  id: string;
  fields: RawFields | null;
}

export function fieldsToRecord(list: unknown): RawFields | null {
  if (!Array.isArray(list)) return null;
  const out: RawFields = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = String(list[i + 1]);
  return out;
}

/** `[[id, [f, v, …]], …]` → entries; tolerant of nulls (deleted entries in history reads). */
export function toEntries(list: unknown): RawEntry[] {
  if (!Array.isArray(list)) return [];
  const out: RawEntry[] = [];
  for (const item of list) {
    if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
    out.push({ id: item[0], fields: fieldsToRecord(item[1]) });
  }
  return out;
}

/** XREAD/XREADGROUP reply `[[stream, entries], …]` (or null on timeout) → per-stream entries. */
export function toStreamBatches(reply: unknown): { stream: string; entries: RawEntry[] }[] {
  if (!Array.isArray(reply)) return [];
  const out: { stream: string; entries: RawEntry[] }[] = [];
  for (const item of reply) {
    if (Array.isArray(item) && typeof item[0] === 'string')
      out.push({ stream: item[0], entries: toEntries(item[1]) });
  }
  return out;
}

export type Decoded = { ok: true; message: Message } | { ok: false; reason: string };

const MAX_REASON = 1000;

/** Every byte read from Redis passes the protocol schema before anyone acts on it (ARCHITECTURE §2). */
export function decodeEntry(fields: RawFields): Decoded {
  const raw = fields.message;
  if (raw === undefined) {
    const names = Object.keys(fields).slice(0, 10).join(', ');
    return { ok: false, reason: `entry has no "message" field (fields: ${names || 'none'})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: clip(`"message" field is not JSON: ${(error as Error).message}`) };
  }
  const result = MessageSchema.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  return {
    ok: false,
    reason: clip(`message fails the schema: ${describeProblems(problemsFrom(result.error))}`),
  };
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 3)}...` : text;
}

/**
 * The fields checkRoute reads. Needed because protocol's checkRoute types `phase?: number`, which a
 * zod-inferred Message (`phase?: number | undefined`) does not satisfy under exactOptionalPropertyTypes.
 */
export function routeOf(message: Message): Pick<Message, 'from' | 'to' | 'type'> & { phase?: number } {
  const route: Pick<Message, 'from' | 'to' | 'type'> & { phase?: number } = {
    from: message.from,
    to: message.to,
    type: message.type,
  };
  if (message.phase !== undefined) route.phase = message.phase;
  return route;
}
