// Checkpoints at the guide's triggers (guide §3 "Scheduled Checkpoints"): a record in Redis
// (`run:<id>:checkpoints`) and a file `checkpoints/CP-<n>.md` with the guide's agenda.
import { join } from 'node:path';
import type { RunState } from '@nightshift/core';
import { displayName, PHASE_NAMES, ROLES } from '@nightshift/protocol';
import type { Keys, RedisClient } from '@nightshift/redis';
import { writeFileAtomic } from './files.js';

export interface CheckpointRecord {
  n: number;
  runId: string;
  trigger: string;
  /** Dedupe key: the same trigger for the same source never makes two checkpoints. */
  key: string;
  at: string;
  phase: number | null;
  iteration: number;
  /** Event-log position the checkpoint covers (run version). */
  version: number;
  decision: 'Continue' | 'Revise' | 'Escalate';
  file: string;
}

export async function listCheckpoints(
  redis: RedisClient,
  keys: Keys,
  runId: string,
): Promise<CheckpointRecord[]> {
  const raw = await redis.lrange(keys.runCheckpoints(runId), 0, -1);
  const out: CheckpointRecord[] = [];
  for (const line of raw) {
    try {
      out.push(JSON.parse(line) as CheckpointRecord);
    } catch (error) {
      // A corrupt record is reported and skipped; the previous good one still stands.
      process.emitWarning(`skipping a corrupt checkpoint record of ${runId}: ${String(error)}`);
    }
  }
  return out;
}

/** The agenda's decision: Escalate when a human is needed, Revise with open critical findings. */
function decisionOf(state: RunState): CheckpointRecord['decision'] {
  if (state.status === 'waiting-human') return 'Escalate';
  if (state.findings.current.some((f) => f.severity === 'critical')) return 'Revise';
  return 'Continue';
}

/**
 * Writes a checkpoint unless one with the same key exists. Returns the record, or undefined for
 * a duplicate. The key set makes it idempotent across Scribe restarts and redeliveries.
 */
export async function writeCheckpoint(
  redis: RedisClient,
  keys: Keys,
  memoryDir: string,
  state: RunState,
  version: number,
  trigger: string,
  key: string,
  now = new Date(),
): Promise<CheckpointRecord | undefined> {
  const runId = state.runId as string;
  const fresh = await redis.sadd(keys.custom('run', runId, 'checkpoint-keys'), key);
  if (fresh === 0) return undefined;
  const n = await redis.incr(keys.custom('run', runId, 'checkpoint-seq'));
  const file = join(memoryDir, runId, 'checkpoints', `CP-${n}.md`);
  const record: CheckpointRecord = {
    n,
    runId,
    trigger,
    key,
    at: now.toISOString(),
    phase: state.phase,
    iteration: state.iteration,
    version,
    decision: decisionOf(state),
    file,
  };
  await writeFileAtomic(file, renderCheckpoint(state, record));
  await redis.rpush(keys.runCheckpoints(runId), JSON.stringify(record));
  return record;
}

export function renderCheckpoint(state: RunState, cp: CheckpointRecord): string {
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
    '',
    '## 2. Status from each agent',
    ...status,
    '',
    '## 3. Blockers or conflicts',
    ...(blockers.length > 0 ? blockers : ['- None']),
    '',
    '## 4. Decision',
    `**${cp.decision}**`,
    '',
  ].join('\n');
}
