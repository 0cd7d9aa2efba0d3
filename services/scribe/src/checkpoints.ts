// Checkpoints at the guide's triggers (guide §3 "Scheduled Checkpoints"): a record in Redis
// (`run:<id>:checkpoints`) and a file `checkpoints/CP-<n>.md` with the guide's agenda. Checkpoint
// n is the n-th trigger of the event log (triggers.ts), written file first, then committed to
// Redis in one atomic step — so a crash anywhere leaves either nothing or a complete checkpoint,
// and the next pass completes what is missing without duplicating anything.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunState } from '@nightshift/core';
import { displayName, PHASE_NAMES, ROLES } from '@nightshift/protocol';
import type { Keys, RedisClient } from '@nightshift/redis';
import { z } from 'zod';
import { writeFileAtomic } from './files.js';
import { type CheckpointTrigger, SIGNIFICANT_SEVERITIES, TRIGGER_KINDS } from './triggers.js';

export const CheckpointRecordSchema = z.object({
  n: z.int().min(1),
  runId: z.string().min(1),
  kind: z.enum(TRIGGER_KINDS),
  trigger: z.string(),
  /** Dedupe key: the same trigger never makes two checkpoints. */
  key: z.string().min(1),
  /** When the trigger happened (its event's time). */
  at: z.iso.datetime({ offset: true }),
  /** When the checkpoint was written (later than `at` if the Scribe was catching up). */
  writtenAt: z.iso.datetime({ offset: true }),
  phase: z.int().min(1).max(4).nullable(),
  iteration: z.int().min(1),
  /** Event-log position the checkpoint covers (run version). */
  version: z.int().min(0),
  decision: z.enum(['Continue', 'Revise', 'Escalate']),
  file: z.string().min(1),
  /** sha256 of the file as written: a corrupted or truncated file is detected, not trusted. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type CheckpointRecord = z.infer<typeof CheckpointRecordSchema>;

/** A checkpoint record or file that could not be trusted: where it is and why. */
export interface CheckpointProblem {
  /** `redis <key>[<index>]` for a record, the file's path for a file. */
  where: string;
  reason: string;
  n?: number;
}

/**
 * Commits one checkpoint atomically. Inline rather than a .lua file: this service ships only its
 * compiled JS. KEYS[1] dedupe set, KEYS[2] record list; ARGV[1] dedupe key, ARGV[2] record JSON.
 * Returns 1 when committed, 0 when that key was already committed (a duplicate).
 */
const COMMIT_CHECKPOINT = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1`;

export function checkpointKeysKey(keys: Keys, runId: string): string {
  return keys.custom('run', runId, 'checkpoint-keys');
}

export function checkpointFile(memoryDir: string, runId: string, n: number): string {
  return join(memoryDir, runId, 'checkpoints', `CP-${n}.md`);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Every record of the run, by n; corrupt ones are reported and skipped (never thrown). */
export async function readCheckpoints(
  redis: RedisClient,
  keys: Keys,
  runId: string,
): Promise<{ records: CheckpointRecord[]; problems: CheckpointProblem[] }> {
  const key = keys.runCheckpoints(runId);
  const raw = await redis.lrange(key, 0, -1);
  const records: CheckpointRecord[] = [];
  const problems: CheckpointProblem[] = [];
  raw.forEach((line, index) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      problems.push({ where: `redis ${key}[${index}]`, reason: `not JSON: ${(error as Error).message}` });
      return;
    }
    const parsed = CheckpointRecordSchema.safeParse(json);
    if (parsed.success) records.push(parsed.data);
    else
      problems.push({
        where: `redis ${key}[${index}]`,
        reason: `not a checkpoint record: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
      });
  });
  records.sort((a, b) => a.n - b.n);
  return { records, problems };
}

/** Undefined when the file is there and unchanged since it was written; else the problem. */
export async function verifyCheckpointFile(record: CheckpointRecord): Promise<CheckpointProblem | undefined> {
  let text: string;
  try {
    text = await readFile(record.file, 'utf8');
  } catch (error) {
    return { where: record.file, n: record.n, reason: `unreadable: ${(error as Error).message}` };
  }
  if (sha256(text) !== record.sha256)
    return { where: record.file, n: record.n, reason: 'corrupted: its sha256 does not match the record' };
  return undefined;
}

/**
 * The newest checkpoint whose record and file are both good; every bad one met on the way
 * (corrupt record, missing or altered file) is returned as a problem, with its path.
 */
export async function lastGoodCheckpoint(
  redis: RedisClient,
  keys: Keys,
  runId: string,
): Promise<{ checkpoint: CheckpointRecord | undefined; problems: CheckpointProblem[]; count: number }> {
  const { records, problems } = await readCheckpoints(redis, keys, runId);
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i] as CheckpointRecord;
    const problem = await verifyCheckpointFile(record);
    if (!problem) return { checkpoint: record, problems, count: records.length };
    problems.push(problem);
  }
  return { checkpoint: undefined, problems, count: records.length };
}

/** The agenda's decision: Escalate when a human is needed, Revise with open significant findings. */
export function decisionOf(state: RunState): CheckpointRecord['decision'] {
  if (state.status === 'waiting-human' || state.pendingEscalation) return 'Escalate';
  if (state.findings.current.some((f) => SIGNIFICANT_SEVERITIES.includes(f.severity))) return 'Revise';
  return 'Continue';
}

export interface WriteContext {
  redis: RedisClient;
  keys: Keys;
  memoryDir: string;
  now?: () => Date;
}

/**
 * Writes every trigger that has no checkpoint yet, in order; trigger i becomes CP-(i+1).
 * Returns the new records.
 */
export async function reconcileCheckpoints(
  ctx: WriteContext,
  runId: string,
  triggers: readonly CheckpointTrigger[],
): Promise<CheckpointRecord[]> {
  const done = new Set(await ctx.redis.smembers(checkpointKeysKey(ctx.keys, runId)));
  const written: CheckpointRecord[] = [];
  for (let i = 0; i < triggers.length; i++) {
    const t = triggers[i] as CheckpointTrigger;
    if (done.has(t.key)) continue;
    const record = await writeCheckpoint(ctx, runId, i + 1, t);
    if (record) written.push(record);
  }
  return written;
}

async function writeCheckpoint(
  ctx: WriteContext,
  runId: string,
  n: number,
  t: CheckpointTrigger,
): Promise<CheckpointRecord | undefined> {
  const file = checkpointFile(ctx.memoryDir, runId, n);
  const draft = {
    n,
    runId,
    kind: t.kind,
    trigger: t.trigger,
    key: t.key,
    at: t.at,
    writtenAt: (ctx.now?.() ?? new Date()).toISOString(),
    phase: t.state.phase,
    iteration: t.state.iteration,
    version: t.version,
    decision: decisionOf(t.state),
    file,
  };
  const content = renderCheckpoint(t.state, draft, join(ctx.memoryDir, runId, 'summary.md'));
  const record: CheckpointRecord = { ...draft, sha256: sha256(content) };
  // File first: a record in Redis always points at a complete, fsynced file.
  await writeFileAtomic(file, content);
  const committed = await ctx.redis.eval(
    COMMIT_CHECKPOINT,
    2,
    checkpointKeysKey(ctx.keys, runId),
    ctx.keys.runCheckpoints(runId),
    t.key,
    JSON.stringify(record),
  );
  return Number(committed) === 1 ? record : undefined;
}

/**
 * The checkpoint file. A pure function of the trigger (no write time, no rolling summary, which
 * changes): two writers, or a rewrite after a crash, produce the very same bytes and sha256.
 */
export function renderCheckpoint(
  state: RunState,
  cp: Pick<CheckpointRecord, 'n' | 'runId' | 'trigger' | 'at' | 'iteration' | 'version' | 'decision'>,
  summaryFile?: string,
): string {
  const phase = state.phase === null ? 'not started' : `${state.phase} - ${PHASE_NAMES[state.phase]}`;
  const status = ROLES.map((role) => {
    const flying = Object.values(state.inFlight).find((f) => f?.role === role);
    const last = [...state.completed].reverse().find((c) => c.role === role);
    const sentence = flying
      ? `working on ${flying.step} (attempt ${flying.attempt}).`
      : last
        ? `completed ${last.step} in iteration ${last.iteration}.`
        : 'no work yet this run.';
    return `- ${displayName(role)}: ${sentence}`;
  });
  const blockers = Object.entries(state.progress)
    .filter(([, p]) => p && !p.done && p.failures > 0)
    .map(([step, p]) => `- ${step}: ${p?.lastError ?? 'failed'}`);
  if (state.waiting) blockers.push(`- Waiting for a human: ${state.waiting.reason}`);
  const findings = state.findings.current.map(
    (f) => `- [${f.severity}] ${f.file ? `${f.file}: ` : ''}${f.description} (${displayName(f.from)})`,
  );
  return [
    `# Checkpoint CP-${cp.n} — ${state.title ?? cp.runId}`,
    '',
    `- Trigger: ${cp.trigger}`,
    `- Time: ${cp.at}`,
    `- Phase: ${phase}, iteration ${cp.iteration}`,
    `- Covers the event log up to version ${cp.version}`,
    '',
    '## 1. State summary (Scribe)',
    `Status ${state.status}; ${state.completed.length} steps completed; ${state.findings.all.length} findings so far.`,
    ...(summaryFile ? [`The rolling summary of the run: ${summaryFile}`] : []),
    '',
    '## 2. Status from each agent',
    ...status,
    '',
    '## 3. Blockers or conflicts',
    ...(blockers.length > 0 ? blockers : ['- None']),
    ...(findings.length > 0 ? ['', 'Open findings:', ...findings] : []),
    '',
    '## 4. Decision',
    `**${cp.decision}**`,
    '',
  ].join('\n');
}
