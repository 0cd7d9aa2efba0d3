// The alert store (issue 9): every escalation the Sentinel raises, once per incident key, and how a
// human resolved it. Shared by the Sentinel (raise), the dashboard and the CLI (list, resolve).
import { LevelSchema } from '@nightshift/core';
import { NightshiftError, newId, validate } from '@nightshift/protocol';
import { z } from 'zod';
import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

export interface AlertRecord {
  /** `alert_<time><random>`: safe as a BullMQ job id, a Redis key part and a file name. */
  id: string;
  /** The incident key (detection key): one alert per key, ever. */
  key: string;
  runId?: string;
  /** The escalation level acted on (guide §4: 0 normal … 4 abort). */
  level: 0 | 1 | 2 | 3 | 4;
  /** The detection rule that fired (e.g. `resources.queue-depth`). */
  rule: string;
  /** Who or what: a role, a queue, a task, a phase. */
  subject: string;
  reason: string;
  status: 'open' | 'resolved';
  raisedAt: string;
  resolvedAt?: string;
  resolution?: AlertResolution;
  /** The human-readable file written for it (ALERT-<timestamp>.md or emergency.md), if any. */
  file?: string;
  /** The escalation actions taken (core `EscalationAction` names). */
  actions: string[];
}

export interface AlertResolution {
  decision: 'continue' | 'abort' | 'note';
  note?: string;
  /** Who resolved it: `human`, a user name, `director`, or `sentinel` (its condition cleared). */
  by: string;
}

export type RaiseAlertInput = Omit<AlertRecord, 'id' | 'status' | 'raisedAt'> & { at?: string };

export interface ListAlertsOptions {
  status?: 'open' | 'resolved';
  runId?: string;
  /** Most alerts returned, newest first (default 100). */
  limit?: number;
}

export interface AlertStore {
  /** Idempotent by `key`: a second raise with a known key returns the existing alert, created=false. */
  raise(input: RaiseAlertInput): Promise<{ alert: AlertRecord; created: boolean }>;
  get(id: string): Promise<AlertRecord | undefined>;
  /** Newest first. */
  list(opts?: ListAlertsOptions): Promise<AlertRecord[]>;
  /**
   * Marks the alert resolved. The first resolution wins: resolving a resolved alert returns it
   * unchanged. Throws NightshiftError `ALERT_NOT_FOUND` (invalid-input) for an unknown id.
   */
  resolve(id: string, resolution: AlertResolution): Promise<AlertRecord>;
}

const ResolutionSchema = z.object({
  decision: z.enum(['continue', 'abort', 'note']),
  note: z.string().optional(),
  by: z.string().min(1),
});

const RecordSchema = z.object({
  id: z.string().min(1),
  key: z.string().min(1),
  runId: z.string().optional(),
  level: LevelSchema,
  rule: z.string(),
  subject: z.string(),
  reason: z.string(),
  status: z.enum(['open', 'resolved']),
  raisedAt: z.iso.datetime({ offset: true }),
  resolvedAt: z.iso.datetime({ offset: true }).optional(),
  resolution: ResolutionSchema.optional(),
  file: z.string().optional(),
  actions: z.array(z.string()),
});

/** The store's Redis keys, all under the configured prefix (one hash tag for Cluster). */
export function alertKeys(keys: Keys): {
  records: string;
  index: string;
  byTime: string;
  resolutions: string;
} {
  return {
    records: keys.custom('alerts', 'records'),
    index: keys.custom('alerts', 'index'),
    byTime: keys.custom('alerts', 'by-time'),
    // HSETNX here makes "first resolution wins" atomic without a second script.
    resolutions: keys.custom('alerts', 'resolutions'),
  };
}

/** Copies only the defined optionals (exactOptionalPropertyTypes: never `key: undefined`). */
function clean(parsed: z.infer<typeof RecordSchema>): AlertRecord {
  const { runId, resolvedAt, resolution, file, ...rest } = parsed;
  const record: AlertRecord = { ...rest, actions: [...rest.actions] };
  if (runId !== undefined) record.runId = runId;
  if (resolvedAt !== undefined) record.resolvedAt = resolvedAt;
  if (file !== undefined) record.file = file;
  if (resolution !== undefined) record.resolution = cleanResolution(resolution);
  return record;
}

function cleanResolution(r: z.infer<typeof ResolutionSchema>): AlertResolution {
  return r.note === undefined
    ? { decision: r.decision, by: r.by }
    : { decision: r.decision, note: r.note, by: r.by };
}

function decodeRecord(json: string): AlertRecord {
  return clean(validate(RecordSchema, JSON.parse(json) as unknown, 'alert record'));
}

export function createAlertStore(redis: RedisClient, keys: Keys): AlertStore {
  const k = alertKeys(keys);

  /** The record with its resolution merged in (a crash between HSETNX and HSET leaves only the former). */
  async function read(id: string): Promise<AlertRecord | undefined> {
    const [json, resolutionJson] = await Promise.all([
      redis.hget(k.records, id),
      redis.hget(k.resolutions, id),
    ]);
    if (json === null) return undefined;
    const record = decodeRecord(json);
    if (resolutionJson === null || record.status === 'resolved') return record;
    const stored = JSON.parse(resolutionJson) as { at: string; resolution: unknown };
    return {
      ...record,
      status: 'resolved',
      resolvedAt: stored.at,
      resolution: cleanResolution(validate(ResolutionSchema, stored.resolution, 'alert resolution')),
    };
  }

  return {
    async raise(input) {
      const { at, resolvedAt: _r, resolution: _s, ...fields } = input;
      const raisedAt = at ?? new Date().toISOString();
      const ms = Date.parse(raisedAt);
      const id = newId('alert', Number.isFinite(ms) ? ms : Date.now());
      const record = clean(
        validate(RecordSchema, { ...fields, id, status: 'open', raisedAt }, 'alert to raise'),
      );
      const [created, json] = (await runScript(
        redis,
        'raiseAlert-3',
        [k.records, k.index, k.byTime],
        [record.key, id, JSON.stringify(record), Number.isFinite(ms) ? ms : Date.now()],
      )) as [number, string];
      if (created === 1) return { alert: record, created: true };
      if (json === '') {
        throw new NightshiftError(
          'ALERT_CORRUPT',
          `alert key ${record.key} is indexed but its record is missing`,
          {
            category: 'fatal',
            details: { key: record.key },
          },
        );
      }
      const existing = decodeRecord(json);
      return { alert: (await read(existing.id)) ?? existing, created: false };
    },

    get: read,

    async list(opts = {}) {
      const limit = Math.max(1, opts.limit ?? 100);
      const out: AlertRecord[] = [];
      const page = 200;
      // Newest first, a page at a time, until enough match the filters.
      for (let start = 0; out.length < limit; start += page) {
        const ids = await redis.zrevrange(k.byTime, start, start + page - 1);
        if (ids.length === 0) break;
        const records = await Promise.all(ids.map((id) => read(id)));
        for (const record of records) {
          if (!record) continue;
          if (opts.status !== undefined && record.status !== opts.status) continue;
          if (opts.runId !== undefined && record.runId !== opts.runId) continue;
          out.push(record);
          if (out.length >= limit) break;
        }
        if (ids.length < page) break;
      }
      return out;
    },

    async resolve(id, resolution) {
      const current = await read(id);
      if (!current) {
        throw new NightshiftError('ALERT_NOT_FOUND', `no alert ${id}`, {
          category: 'invalid-input',
          details: { id },
        });
      }
      if (current.status === 'resolved') return current;
      const checked = cleanResolution(validate(ResolutionSchema, resolution, 'alert resolution'));
      const at = new Date().toISOString();
      const won = await redis.hsetnx(k.resolutions, id, JSON.stringify({ at, resolution: checked }));
      // Lost a race with another resolver: theirs stands.
      if (won === 0) return (await read(id)) ?? current;
      const resolved: AlertRecord = { ...current, status: 'resolved', resolvedAt: at, resolution: checked };
      await redis.hset(k.records, id, JSON.stringify(resolved));
      return resolved;
    },
  };
}
