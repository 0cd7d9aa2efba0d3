// The recorded forecasts in Redis (issue 24 §3): `plan --record` writes each run's first forecast
// (`run:<id>:forecast`, NX, 30 days); `plan --review` and the morning report read them beside the
// runs' real ends. A run archived out of Redis (issue 21 §2) is read from its archive.
import { fold, parseRunEvent } from '@nightshift/core';
import type { Keys, RedisClient, RunStore } from '@nightshift/redis';
import { type RecordedForecast, RecordedForecastSchema, type ReviewRow } from './review.js';

/** How long a recorded forecast is kept: long enough for any morning, and a week of reviews. */
export const RECORD_TTL_SECONDS = 30 * 86_400;

const forecastKey = (keys: Keys, runId: string) => keys.custom('run', runId, 'forecast');

/** Keeps each run's forecast unless one is recorded already: the one made when the night started. */
export async function recordForecasts(
  redis: RedisClient,
  keys: Keys,
  runs: readonly { runId: string; forecast: RecordedForecast }[],
): Promise<void> {
  for (const r of runs)
    await redis.set(forecastKey(keys, r.runId), JSON.stringify(r.forecast), 'EX', RECORD_TTL_SECONDS, 'NX');
}

async function readForecast(
  redis: RedisClient,
  keys: Keys,
  store: RunStore,
  runId: string,
): Promise<RecordedForecast | undefined> {
  const key = forecastKey(keys, runId);
  const archived = await store.archived(runId);
  const entry = archived?.key(key);
  const raw = archived ? (entry?.type === 'string' ? entry.value : null) : await redis.get(key);
  if (raw === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    // A torn record is skipped: the other runs' comparison still stands.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  const parsed = RecordedForecastSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** One run's recorded forecast beside its end; undefined when none was recorded. */
export async function reviewRow(
  redis: RedisClient,
  keys: Keys,
  store: RunStore,
  runId: string,
): Promise<ReviewRow | undefined> {
  const forecast = await readForecast(redis, keys, store, runId);
  if (!forecast) return undefined;
  const events = (await store.read(runId)).map((s) => parseRunEvent(s.event));
  const finished = events.findLast((e) => e.type === 'run.finished');
  return { runId, forecast, endedAt: finished?.at, status: fold(events).status };
}

/** Every run in Redis with a recorded forecast, oldest first (`plan --review`). */
export async function reviewRuns(redis: RedisClient, keys: Keys, store: RunStore): Promise<ReviewRow[]> {
  const rows: ReviewRow[] = [];
  for (const runId of await store.list(10_000)) {
    const row = await reviewRow(redis, keys, store, runId);
    if (row) rows.push(row);
  }
  return rows;
}

/** The runs forecast together with `runId` (its own first), for its morning report; [] when none. */
export async function nightOf(
  redis: RedisClient,
  keys: Keys,
  store: RunStore,
  runId: string,
): Promise<ReviewRow[]> {
  const own = await reviewRow(redis, keys, store, runId);
  if (!own) return [];
  const rows = [own];
  for (const other of own.forecast.night ?? []) {
    if (other === runId) continue;
    const row = await reviewRow(redis, keys, store, other);
    if (row) rows.push(row);
  }
  return rows;
}
