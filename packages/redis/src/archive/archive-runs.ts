// Moving finished runs out of Redis (issue 21 §2), crash-safe: the archive file is written and
// fsynced before anything is removed, and a run whose archive already exists (a pass that crashed
// between the two) is never snapshotted again — its Redis data may be half gone — only its removal
// is finished. A damaged archive stops that run (reported), never the others.
import type { RedisClient } from '../connection.js';
import type { Keys } from '../keys.js';
import { type ArchiveContent, writeArchiveFile } from './format.js';
import type { RunArchive } from './reader.js';
import { type RunQueues, removeArchived, runMessages, snapshotRun } from './snapshot.js';

export interface RunToArchive {
  runId: string;
  /** ISO times from the run's events; createdAt bounds the bus:log read. */
  createdAt: string | null;
  endedAt: string | null;
}

export interface ArchiveRunsResult {
  archived: { runId: string; file: string; keys: number; messages: number; jobs: number }[];
  failed: { runId: string; error: Error }[];
}

/** How far before a run's creation its messages may start (the intake's first STATUS). */
const MESSAGE_SLACK_MS = 60_000;

export async function archiveRuns(o: {
  redis: RedisClient;
  keys: Keys;
  archive: RunArchive;
  queues: RunQueues;
  runs: readonly RunToArchive[];
  now: Date;
}): Promise<ArchiveRunsResult> {
  const result: ArchiveRunsResult = { archived: [], failed: [] };
  const ready = new Map<string, ArchiveContent>();
  const fresh: RunToArchive[] = [];
  for (const run of o.runs) {
    try {
      const existing = await o.archive.read(run.runId);
      if (existing) ready.set(run.runId, existing.content);
      else fresh.push(run);
    } catch (error) {
      result.failed.push({ runId: run.runId, error: error as Error });
    }
  }
  if (fresh.length > 0) {
    const ids = new Set(fresh.map((r) => r.runId));
    const from =
      Math.min(...fresh.map((r) => (r.createdAt ? Date.parse(r.createdAt) : 0) || 0)) - MESSAGE_SLACK_MS;
    const messages = await runMessages(o.redis, o.keys, ids, from);
    for (const run of fresh) {
      try {
        const content = await snapshotRun(o.redis, o.keys, o.queues, {
          runId: run.runId,
          messages: messages.get(run.runId) ?? [],
          endedAt: run.endedAt,
          now: o.now,
        });
        await writeArchiveFile(o.archive.file(run.runId), content);
        ready.set(run.runId, content);
      } catch (error) {
        result.failed.push({ runId: run.runId, error: error as Error });
      }
    }
  }
  for (const [runId, content] of ready) {
    try {
      await removeArchived(o.redis, o.keys, o.queues, content);
      result.archived.push({
        runId,
        file: o.archive.file(runId),
        keys: content.keys.length,
        messages: content.messages.length,
        jobs: content.jobs.length,
      });
    } catch (error) {
      result.failed.push({ runId, error: error as Error });
    }
  }
  return result;
}
