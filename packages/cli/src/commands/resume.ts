// `nightshift resume <runId>`: bring a run back after its services were down (issue 7 §5). It
// checks the run exists, shows where it stands (phase, last GOOD checkpoint, steps in flight and
// their jobs, which services are alive), records `run.resumed` if the run was paused, and nudges
// the Director with a human DECISION so it re-checks the run at once; `--wait` follows it to the
// end. Nothing here re-runs work: the Director continues from the event log, re-publishes the
// requests in flight (same ids, so finished work is never redone) and the Scribe's consumer group
// resumes where it stopped. It also resumes a paused run (`nightshift pause` is in runs.ts).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Control, RunActionResult, RunRecord } from '@nightshift/client';
import { isTerminal } from '@nightshift/core';
import { type Message, MessageSchema, newId, validate } from '@nightshift/protocol';
import { listHeartbeats, QUEUE_NAMES } from '@nightshift/redis';
import { Argument, type Command } from 'commander';
import { printJson, withControl } from '../control-deps.js';
import type { CliDeps } from '../deps.js';
import { followWithProgress } from '../follow-progress.js';
import { parseId } from '../options.js';

interface ResumeOptions {
  note?: string;
  wait?: boolean;
  json?: boolean;
}

/** The last checkpoint whose Redis record parses and whose file still has its recorded sha256. */
export interface GoodCheckpoint {
  n: number;
  trigger: string;
  at: string;
  file: string;
  version: number;
}

/** A checkpoint record or file that cannot be trusted, with where it is. */
export interface CheckpointProblem {
  where: string;
  reason: string;
}

const HELP = `
After a crash or a stop of the services (kill -9, a reboot, Redis restarted with AOF), start the
services again (nightshift up, docker compose up) and run this. The Director already continues
every open run from its event log on start: it re-publishes the requests that were in flight
(under the same ids, so a finished component is never rebuilt) and steps past their timeout are
retried. So resume is mostly visibility and a nudge: it shows the run's phase, its last good
checkpoint (a corrupted checkpoint record or file is reported with its path and skipped), the
steps in flight with their queue jobs and the services alive; it records run.resumed if the run
was paused; and it sends the Director a human DECISION so it re-checks the run now.`;

/** Checkpoints are verified here, not trusted: the CLI may run while the Scribe is down. */
export async function lastGoodCheckpoint(
  control: Control,
  runId: string,
): Promise<{ checkpoint: GoodCheckpoint | undefined; problems: CheckpointProblem[] }> {
  const { redis, keys } = control.parts;
  const key = keys.runCheckpoints(runId);
  const raw = await redis.lrange(key, 0, -1);
  const problems: CheckpointProblem[] = [];
  const records: (GoodCheckpoint & { sha256: string })[] = [];
  raw.forEach((line, index) => {
    const where = `redis ${key}[${index}]`;
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      if (
        typeof r.n !== 'number' ||
        typeof r.file !== 'string' ||
        typeof r.sha256 !== 'string' ||
        typeof r.at !== 'string'
      ) {
        problems.push({ where, reason: 'not a checkpoint record (n, file, sha256 or at missing)' });
        return;
      }
      records.push({
        n: r.n,
        trigger: typeof r.trigger === 'string' ? r.trigger : 'unknown',
        at: r.at,
        file: r.file,
        version: typeof r.version === 'number' ? r.version : 0,
        sha256: r.sha256,
      });
    } catch (error) {
      problems.push({
        where,
        reason: `not JSON (${error instanceof Error ? error.message : String(error)})`,
      });
    }
  });
  records.sort((a, b) => a.n - b.n);
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as (typeof records)[number];
    let text: string;
    try {
      text = await readFile(r.file, 'utf8');
    } catch (error) {
      problems.push({
        where: r.file,
        reason: `CP-${r.n} unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      });
      continue;
    }
    if (createHash('sha256').update(text, 'utf8').digest('hex') !== r.sha256) {
      problems.push({
        where: r.file,
        reason: `CP-${r.n} is corrupted (its sha256 does not match the record)`,
      });
      continue;
    }
    const { sha256: _sha, ...good } = r;
    return { checkpoint: good, problems };
  }
  return { checkpoint: undefined, problems };
}

async function inFlight(control: Control, record: RunRecord) {
  return Promise.all(
    record.detail.inFlight.map(async (f) => {
      const messageId = record.events.findLast((e) => e.type === 'step.requested' && e.step === f.step);
      const id = messageId?.type === 'step.requested' ? messageId.messageId : undefined;
      let job = "the Director's own call";
      if (f.role !== 'director' && id !== undefined) {
        const found = await control.parts.queue(QUEUE_NAMES.agent(f.role)).getJob(id);
        job = found
          ? `job ${id} ${await found.getState()}`
          : `job ${id} not queued (the Director re-publishes it)`;
      }
      return { ...f, job };
    }),
  );
}

/** A human DECISION to the Director (guide topology: a human may decide to anyone): tick this run now. */
async function nudge(control: Control, runId: string, phase: number | null): Promise<string> {
  const draft: Record<string, unknown> = {
    id: newId('msg'),
    runId,
    from: 'human',
    to: 'director',
    type: 'DECISION',
    priority: 'HIGH',
    timestamp: control.parts.now().toISOString(),
    content: `RESUME ${runId}: re-check this run and continue from its event log.`,
    context: `Sent by a human through the ${control.parts.actor} (nightshift resume) after the services were down. Nothing to decide.`,
  };
  if (phase !== null) draft.phase = phase;
  const message: Message = validate(MessageSchema, draft, 'resume nudge');
  await control.parts.bus.publish(message);
  return message.id;
}

export function registerResume(program: Command, deps: CliDeps): void {
  const existing = program.commands.find((c) => c.name() === 'resume');
  const command =
    existing ??
    program
      .command('resume')
      .addArgument(new Argument('<runId>', 'the run (see nightshift runs)').argParser(parseId))
      .option('--note <text>', 'why (recorded with run.resumed if the run was paused)')
      .option('--wait', 'follow the run until it ends or needs a human')
      .option('--json', 'print the result as JSON');
  command
    .description(
      'resume a run after its services were down (or a paused run): show its state, nudge the Director',
    )
    .addHelpText('after', HELP)
    .action(async (runId: string, options: ResumeOptions) => {
      await withControl(deps, async (control) => {
        const record = await control.getRun(runId); // "no run <id>" (exit 2) if it does not exist
        const { checkpoint, problems } = await lastGoodCheckpoint(control, runId);
        for (const p of problems)
          deps.stderr(`warning: skipping a bad checkpoint: ${p.where}: ${p.reason}\n`);
        const alive = [
          ...new Set((await listHeartbeats(control.parts.redis, control.parts.keys)).map((b) => b.role)),
        ].sort();
        const flying = await inFlight(control, record);
        const ended = isTerminal(record.detail.status);
        let action: RunActionResult | undefined;
        let nudgeId: string | undefined;
        if (!ended) {
          action = await control.resumeRun(runId, options.note === undefined ? {} : { note: options.note });
          nudgeId = await nudge(control, runId, record.detail.phase);
        }
        const d = record.detail;
        if (options.json) {
          printJson(deps, {
            runId,
            action: 'resume',
            changed: action?.changed ?? false,
            status: action?.status ?? d.status,
            version: action?.version ?? d.version,
            ...(action?.messageId ? { messageId: action.messageId } : {}),
            phase: d.phase,
            iteration: d.iteration,
            lastCheckpoint: checkpoint ?? null,
            checkpointProblems: problems,
            inFlight: flying,
            servicesAlive: alive,
            nudge: nudgeId ?? null,
          });
        } else {
          const lines = [
            `run ${runId}${d.title ? ` (${d.title})` : ''}: ${action?.status ?? d.status}, phase ${d.phase ?? '-'}${d.phaseName ? ` ${d.phaseName}` : ''}, iteration ${d.iteration}`,
            `last checkpoint: ${checkpoint ? `CP-${checkpoint.n} at ${checkpoint.at}: ${checkpoint.trigger} (${checkpoint.file})` : 'none'}`,
            `in flight: ${flying.length === 0 ? 'nothing' : flying.map((f) => `${f.step} (${f.role}, attempt ${f.attempt}, since ${f.since}; ${f.job})`).join('; ')}`,
            `services alive: ${alive.length > 0 ? alive.join(', ') : 'none (start them: nightshift up)'}`,
          ];
          if (!alive.includes('director'))
            lines.push('the Director is not running: the run continues as soon as it starts');
          if (ended) lines.push(`the run has ended (${d.status}); nothing to resume`);
          else if (action?.changed) lines.push('run.resumed recorded (it was paused)');
          if (d.waiting)
            lines.push(`it waits for a human: ${d.waiting.reason} (nightshift decide ${runId} …)`);
          if (nudgeId) lines.push(`the Director was nudged to re-check the run (${nudgeId})`);
          deps.stdout(`${lines.join('\n')}\n`);
        }
        if (options.wait) await followWithProgress(deps, control, runId, options.json ? { json: true } : {});
      });
    });
}
