// Scenario "Redis restart": a spawned redis-server with AOF `everysec` is restarted twice during
// work. (1) A clean restart (SIGTERM: Redis flushes its AOF): the services reconnect, nothing is
// lost. (2) A crash that loses what `everysec` may lose: SIGKILL, then the AOF is cut back to its
// size of ~1 s earlier — what a power loss leaves when the last fsync was a second ago (a kill of
// the process alone loses nothing acknowledged: Redis write()s the AOF before it replies). The
// harness then shows recovery: BullMQ re-runs jobs whose completion was lost; requests whose job
// vanished with the lost second are detected (no RESPONSE, no job) and published again, as any
// client that never saw an answer would; the Director re-requests overdue steps of a run.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { newId } from '@nightshift/protocol';
import { QUEUE_NAMES } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { Queue } from 'bullmq';
import {
  answerCounts,
  answerTracker,
  checkRunsFold,
  diagnose,
  pendingWork,
  publishPaced,
  queueCounts,
  readWholeLog,
  requestBatch,
  sleep,
  streamIntegrity,
  waitForDrain,
} from '../lib/checks.mjs';
import { scriptRun, startRuns, waitForRuns } from '../lib/models.mjs';
import { check, checkCounts, checkStayedUp, finish, newResult } from '../lib/result.mjs';
import { addServices, createWorld, waitForStack } from '../lib/stack.mjs';

/** The AOF file that receives new writes (Redis 7 multi-part AOF: appendonlydir/*.incr.aof). */
function incrAof(dir) {
  const aofDir = join(dir, 'appendonlydir');
  const files = readdirSync(aofDir).filter((f) => f.endsWith('.incr.aof'));
  const seq = (f) => Number(/\.(\d+)\.incr\.aof$/.exec(f)?.[1] ?? 0);
  files.sort((a, b) => seq(a) - seq(b));
  if (files.length === 0) throw new Error(`no *.incr.aof in ${aofDir}`);
  return join(aofDir, files.at(-1));
}

/** Samples the AOF size every 100 ms, so a crash can be rolled back to "what was on disk 1 s ago". */
function aofSampler(dir) {
  const samples = [];
  const timer = setInterval(() => {
    try {
      samples.push({ at: Date.now(), size: statSync(incrAof(dir)).size });
      if (samples.length > 600) samples.shift();
    } catch {
      // between a kill and a restart the file may be briefly unreadable: skip this sample
    }
  }, 100);
  return {
    sizeAt: (t) => [...samples].reverse().find((s) => s.at <= t)?.size,
    stop: () => clearInterval(timer),
  };
}

async function jobState(world, role, id) {
  const queue = new Queue(QUEUE_NAMES.agent(role), { connection: world.bus.redis, prefix: world.prefix });
  queue.on('error', () => undefined);
  try {
    const state = await queue.getJobState(id);
    const reason = state === 'failed' ? (await queue.getJob(id))?.failedReason : undefined;
    return { state, reason };
  } finally {
    await queue.close();
  }
}

export async function redisRestartScenario({ smoke, log }) {
  const started = Date.now();
  const size = smoke
    ? { batch: 40, timeoutMs: 150_000, totalMs: 230_000 }
    : { batch: 300, timeoutMs: 10 * 60_000, totalMs: 25 * 60_000 };
  // One budget for the whole scenario, so it ends (with its diagnosis) inside the runner's limit.
  const remaining = (cap) => Math.max(5_000, Math.min(cap, started + size.totalMs - Date.now()));
  const result = newResult(
    'redis-restart',
    'Redis (AOF everysec) restarted cleanly, then crashed losing ~1 s of writes',
  );
  // Role timeouts of 30 s: an attempt whose LLM job vanished with the lost second gives up (and
  // is retried) after that, and the Director re-requests an overdue step of a run after that.
  const world = await createWorld({
    aof: true,
    ollamaLatencyMs: 60,
    env: Object.fromEntries(
      ['ARCHITECT', 'SCOUT', 'BUILDER', 'REFACTORER', 'INSPECTOR', 'SCRIBE'].map((r) => [
        `ROLE_TIMEOUT_${r}`,
        '30',
      ]),
    ),
  });
  try {
    addServices(world, { gateways: 1, agentConcurrency: 2 });
    scriptRun(world);
    await waitForStack(world);
    const tracker = answerTracker(world.bus);
    world.onCleanup(() => tracker.stop());
    const sent = [];
    const stats = {};

    // (1) Clean restart in the middle of batch A and a run.
    const runA = await startRuns(world, 1, 'redis-restart-clean');
    const batchA = requestBatch('run_chaos_redis_a', size.batch, 'redis-clean');
    sent.push(...batchA);
    const publishingA = publishPaced(world.bus, tracker, batchA, { maxOutstanding: 30, stats }).catch(
      (error) => result.notes.push(`publishing batch A stopped: ${error.message}`),
    );
    await waitFor(() => tracker.answered >= Math.floor(size.batch / 3), {
      timeoutMs: size.timeoutMs,
      intervalMs: 200,
      what: 'a third of batch A',
    });
    const t0 = Date.now();
    await world.redis.restart({ downtimeMs: 1000 });
    log(`  clean restart done in ${Date.now() - t0} ms`);
    await publishingA;
    const cleanOk = await waitFor(() => batchA.every((m) => tracker.has(m.id)), {
      timeoutMs: remaining(120_000) - 60_000,
      intervalMs: 500,
      what: 'batch A answered after the clean restart',
    }).catch(async (error) => {
      result.notes.push(error.message);
      const states = {};
      const reasons = new Set();
      for (const m of batchA.filter((x) => !tracker.has(x.id))) {
        const { state, reason } = await jobState(world, m.to, m.id);
        states[state] = (states[state] ?? 0) + 1;
        if (reason) reasons.add(reason);
      }
      result.details.cleanRestartUnanswered = { states, reasons: [...reasons] };
      result.notes.push(
        `unanswered after the clean restart: ${JSON.stringify(states)} ${[...reasons].join(' | ')}`,
      );
      return false;
    });
    check(result, 'clean restart: batch A answered without any help', cleanOk);
    log('  batch A answered');

    // (2) Crash with the last second of writes gone.
    const sampler = aofSampler(world.redis.dir);
    world.onCleanup(() => sampler.stop());
    const runB = await startRuns(world, 1, 'redis-restart-crash');
    const batchB = requestBatch('run_chaos_redis_b', size.batch, 'redis-crash');
    sent.push(...batchB);
    const answeredBefore = tracker.answered;
    const publishingB = publishPaced(world.bus, tracker, batchB, { maxOutstanding: 30, stats }).catch(
      (error) => result.notes.push(`publishing batch B stopped: ${error.message}`),
    );
    await waitFor(() => tracker.answered - answeredBefore >= Math.floor(size.batch / 3), {
      timeoutMs: size.timeoutMs,
      intervalMs: 200,
      what: 'a third of batch B',
    });
    await sleep(1200); // at least one full second of writes in the sampler's history
    const logBefore = await readWholeLog(world.bus);
    const killAt = Date.now();
    const pid = world.redis.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => world.redis.pid === undefined, { timeoutMs: 10_000, what: 'redis-server to die' });
    const file = incrAof(world.redis.dir);
    const sizeAtKill = statSync(file).size;
    const keep = sampler.sizeAt(killAt - 1000) ?? sizeAtKill;
    truncateSync(file, keep);
    sampler.stop();
    await world.redis.restart({ downtimeMs: 500 });
    const logAfter = await readWholeLog(world.bus);
    const afterIds = new Set(logAfter.map((e) => e.id));
    const lostEntries = logBefore.filter((e) => !afterIds.has(e.id));
    result.details.aofLoss = {
      bytesCut: sizeAtKill - keep,
      aofBytesAtKill: sizeAtKill,
      busLogEntriesLost: lostEntries.length,
      lostByType: lostEntries.reduce((acc, e) => {
        const t = e.message?.type ?? 'unparsed';
        acc[t] = (acc[t] ?? 0) + 1;
        return acc;
      }, {}),
    };
    log(`  crash: cut ${sizeAtKill - keep} AOF bytes (~1 s); ${lostEntries.length} bus:log entries gone`);
    await publishingB;

    // Recovery: BullMQ re-runs what was in flight; a request with no RESPONSE whose job no longer
    // exists was lost with the cut second and is published again (same id: idempotent).
    const republished = new Set();
    const retries = new Map(); // request id → ids of new attempts
    const failedReasons = [];
    const deadline = Date.now() + remaining(size.timeoutMs) - 40_000;
    let lastReport = 0;
    while (Date.now() < deadline) {
      const counts = await answerCounts(
        world.bus,
        sent.map((m) => m.id),
        retries,
      );
      if (counts.lost.length === 0) break;
      const idle = pendingWork(await queueCounts(world.redis.url, world.prefix)) === 0;
      const states = {};
      for (const id of counts.lost) {
        const original = sent.find((x) => x.id === id);
        const latest = retries.get(id)?.at(-1) ?? id;
        const { state, reason } = await jobState(world, original.to, latest);
        states[state] = (states[state] ?? 0) + 1;
        if (state === 'unknown') {
          // The job went with the cut second. Its log entry and publish guard, written just before
          // the add, may have survived, but no agent took the job, so the guard is not marked
          // taken: publishing the same message again queues it again (and logs nothing twice).
          await world.bus.publish(latest === id ? original : { ...original, id: latest });
          republished.add(latest);
        } else if (state === 'failed') {
          // The attempt gave up (e.g. its LLM job was lost, so it waited out the role timeout and
          // raised an ALERT): a new attempt with a new id, as the Director retries a failed step.
          failedReasons.push(reason);
          const retry = { ...original, id: newId('msg'), attempt: (retries.get(id)?.length ?? 0) + 2 };
          retries.set(id, [...(retries.get(id) ?? []), retry.id]);
          await world.bus.publish(retry);
        }
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        log(
          `  recovering: ${counts.lost.length} unanswered, job states ${JSON.stringify(states)}, idle=${idle}`,
        );
      }
      await sleep(2000);
    }
    const recoveredAt = Date.now();
    log(`  requests answered ${((recoveredAt - killAt) / 1000).toFixed(1)} s after the crash`);
    result.details.recovery = {
      republishedByHarness: republished.size,
      retriedAsNewAttempt: [...retries.values()].reduce((n, ids) => n + ids.length, 0),
      failedReasons,
      publishRetries: stats.publishRetries ?? 0,
    };
    const runs = await waitForRuns(world, [...runA, ...runB], remaining(size.timeoutMs) - 30_000).catch(
      (error) => {
        result.notes.push(error.message);
        return [];
      },
    );
    log(`  runs ended ${((Date.now() - killAt) / 1000).toFixed(1)} s after the crash`);
    await waitForDrain(world, result, remaining(90_000) - 20_000);

    const counts = await answerCounts(
      world.bus,
      sent.map((m) => m.id),
      retries,
    );
    result.requests = sent.length;
    result.answered = counts.answered;
    checkCounts(result, { ...counts, limiterMax: world.ollama.maxConcurrent });
    checkStayedUp(result, world, 'services stayed up (reconnected)');
    const finished = runs.filter((r) => r.status === 'finished').length;
    result.details.runs = { statuses: runs.map((r) => r.status) };
    check(result, 'both runs finished', finished === 2, `${finished}/2`);
    await checkRunsFold(result, world.bus, { atLeastOne: true });
    const integrity = await streamIntegrity(world.bus);
    check(
      result,
      'every stream entry parses (no corruption)',
      integrity.bad.length === 0,
      `${integrity.entries} entries, ${integrity.bad.length} bad`,
    );
    result.summary = `crash cut ${result.details.aofLoss.bytesCut} B of AOF = ${lostEntries.length} bus:log entries; ${republished.size} lost job(s) re-published, ${result.details.recovery.retriedAsNewAttempt} failed attempt(s) retried by the harness${failedReasons.length ? ` (${failedReasons.join(' | ')})` : ''}; runs ${finished}/2`;
    if (!result.checks.every((c) => c.ok)) {
      result.details.diagnosis = await diagnose(world);
      result.details.tails = world.stack.tails(15);
    }
  } finally {
    await world.cleanup();
  }
  return finish(result, started);
}
