// The soak's faults and their recovery time. A fault is injected only while a run is in flight;
// its recovery time is measured from the moment it is injected until every run that was in flight
// then has made progress again (a step completed, a decision made, or the run ended) — see
// docs/reliability.md "Soak" for the definition and what it includes.
import { sleep } from '../../chaos/lib/checks.mjs';
import { runStatus } from '../../chaos/lib/models.mjs';
import { waitForStack } from '../../chaos/lib/stack.mjs';

// Waiting for a human is not progress: the run goes on only once the alert is resolved.
const PROGRESS = new Set(['step.completed', 'decision.made', 'run.finished']);

/** Injects one fault of `kind`; resolves with when it started and when the harness undid it. */
async function inject(world, kind, opts, log) {
  const at = Date.now();
  if (kind === 'kill') {
    const slots = world.stack.slots;
    const slot = slots[Math.floor(Math.random() * slots.length)];
    await world.stack.kill(slot); // the supervisor starts it again after restartDelaySec
    log(`  fault: kill -9 ${slot}`);
    return { kind, target: slot, at, backAt: Date.now() };
  }
  if (kind === 'redis-restart') {
    // SIGKILL, then the same data dir: Redis replays its AOF (everysec). A kill of the process
    // alone loses nothing acknowledged (Redis write()s the AOF before it replies).
    await world.redis.restart({ hard: true, downtimeMs: opts.redisDowntimeSec * 1000 });
    log('  fault: Redis killed and restarted from its AOF');
    return { kind, target: 'redis', at, backAt: Date.now() };
  }
  await world.ollama.down();
  log(`  fault: Ollama down for ${opts.outageSec} s`);
  await sleep(opts.outageSec * 1000);
  await world.ollama.up();
  return { kind, target: 'ollama', at, backAt: Date.now() };
}

const ENDED = new Set(['run.finished']);

/**
 * Whether `runId` went on after `since`: its first progress event from then on; `ended` when the
 * run had already ended before it (the harness's list of runs in flight lags Redis by a poll).
 */
async function progressedSince(world, runId, since) {
  const { events } = await runStatus(world, runId);
  const endedBefore = events.some((e) => ENDED.has(e.type) && Date.parse(e.at) < since);
  if (endedBefore) return 'ended';
  return events.find((e) => PROGRESS.has(e.type) && Date.parse(e.at) >= since);
}

/**
 * Injects a fault and waits (bounded) until every run in flight at that moment went on. Returns
 * the fault's record: recoveryMs from injection, afterBackMs from the harness undoing it, null
 * when a run made no progress within recoveryTimeoutSec.
 */
export async function faultWithRecovery(world, kind, inFlight, opts, log) {
  const fault = await inject(world, kind, opts, log);
  fault.runs = [...inFlight];
  const deadline = fault.at + opts.recoveryTimeoutSec * 1000;
  const pending = new Set(inFlight);
  let lastProgress = fault.at;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const runId of [...pending]) {
      try {
        const event = await progressedSince(world, runId, fault.at);
        if (event === 'ended') {
          pending.delete(runId);
          fault.runs = fault.runs.filter((id) => id !== runId);
        } else if (event !== undefined) {
          pending.delete(runId);
          lastProgress = Math.max(lastProgress, Date.parse(event.at));
        }
      } catch (error) {
        void error; // Redis is still coming back: read again on the next round
      }
    }
    if (pending.size > 0) await sleep(250);
  }
  fault.recovered = pending.size === 0;
  // Every run thought in flight had in fact ended just before: nothing to time for this fault.
  const timed = fault.recovered && fault.runs.length > 0;
  fault.recoveryMs = timed ? lastProgress - fault.at : null;
  fault.afterBackMs = timed ? Math.max(0, lastProgress - fault.backAt) : null;
  fault.notRecovered = [...pending];
  if (kind === 'kill') await waitForStack(world).catch((error) => (fault.stackError = error.message));
  log(
    `  ${kind}: ${fault.recovered ? `runs going again ${fault.recoveryMs} ms after the fault` : `NOT recovered: ${fault.notRecovered.join(', ')}`}`,
  );
  return fault;
}

/** The kinds in rotation, `maxFaults` at most. */
export function faultPlan(opts) {
  return Array.from({ length: opts.maxFaults }, (_, i) => opts.faults[i % opts.faults.length]);
}
