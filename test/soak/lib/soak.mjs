// One soak: a private Redis with AOF, the fake models with a latency spread, the whole stack under
// a supervisor that restarts what dies; runs enqueued back to back (`parallel` in flight), faults
// on a schedule, a sample every few seconds, and the end checks. Everything is torn down by the
// chaos harness's world cleanup, whatever happens.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRunStore, enqueueRun, openRunArchive, runArchiveDir } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { sleep } from '../../chaos/lib/checks.mjs';
import { runStatus } from '../../chaos/lib/models.mjs';
import { operator } from '../../chaos/lib/operator.mjs';
import { addServices, createWorld, waitForStack } from '../../chaos/lib/stack.mjs';
import { endChecks } from './end-checks.mjs';
import { faultPlan, faultWithRecovery } from './faults.mjs';
import { growthChecks } from './growth.mjs';
import { scriptSoakModel } from './model.mjs';
import { runArchiveFiles, takeSample } from './sampler.mjs';

// A run waiting for a human is not over: the harness resolves the alerts it provoked, and the run
// goes on. One that still waits when the soak ends is judged by the end checks.
const ENDED = new Set(['finished', 'aborted', 'failed']);

/** enqueueRun, retried while Redis restarts (a run id is only handed out once it is stored). */
async function enqueueWithRetry(world, task) {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await enqueueRun(world.redis.url, { task }, { prefix: world.prefix })).runId;
    } catch (error) {
      if (attempt >= 30) throw error;
      await sleep(Math.min(2000, 100 * 2 ** attempt));
    }
  }
}

/** The runs of the soak and where each one is; `refresh` reads their status from Redis. */
function runBook(world) {
  const runs = new Map();
  return {
    runs,
    get created() {
      return runs.size;
    },
    get finished() {
      return [...runs.values()].filter((r) => r.endedAt !== undefined).length;
    },
    inFlight: () => [...runs.values()].filter((r) => r.endedAt === undefined).map((r) => r.runId),
    add(runId) {
      runs.set(runId, { runId, index: runs.size, enqueuedAt: Date.now() });
    },
    async refresh() {
      for (const r of runs.values()) {
        if (r.endedAt !== undefined) continue;
        const { status, events } = await runStatus(world, r.runId).catch(() => ({ status: 'unread' }));
        r.status = status;
        if (!ENDED.has(status)) continue;
        r.waitedForHuman = events.some((e) => e.type === 'run.waiting-human');
        r.endedAt = Date.parse(events.at(-1).at);
        r.makespanMs = r.endedAt - Date.parse(events[0].at);
      }
    },
  };
}

/**
 * Waits (bounded: the retention age, two passes and settleSec) until the Scribe has archived every
 * run, then reads what stays in Redis: the figure retention bounds whatever the number of runs.
 */
async function afterRetention(world, opts, runs) {
  const limitMs = (opts.retentionSec + 2 * opts.retentionCheckSec + opts.settleSec) * 1000;
  const inRedis = () => world.bus.redis.zcard(world.keys.runsIndex);
  const done = await waitFor(async () => (await inRedis()) === 0, {
    timeoutMs: limitMs,
    intervalMs: 1000,
    what: 'every run archived',
  }).catch(() => false);
  const info = await world.bus.redis.info('memory');
  return {
    allArchived: done !== false,
    runsInRedis: await inRedis(),
    archives: runArchiveFiles(world.memoryDir),
    runs,
    keys: await world.bus.redis.dbsize(),
    usedMemory: Number(/^used_memory:(\d+)/m.exec(info)?.[1]),
  };
}

/** Repeats `fn` every `ms` until `stop()` says so (errors are kept, not thrown: a soak goes on). */
async function every(ms, stop, fn, errors) {
  while (!stop()) {
    try {
      await fn();
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
    await sleep(ms);
  }
}

/** The world being soaked, for a signal handler to tear down before the process exits. */
export const active = { world: undefined };

export async function soak(opts, log) {
  const startedAt = Date.now();
  const deadline = startedAt + opts.hours * 3600_000;
  const world = await createWorld({
    aof: true,
    stackOptions: { restart: true, restartDelayMs: opts.restartDelaySec * 1000 },
    env: {
      LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? 'info',
      // Issue 21 §2: the Scribe archives ended runs out of Redis after a short age here.
      RUN_RETENTION_HOURS: String(opts.retentionSec / 3600),
      RUN_RETENTION_CHECK_SECONDS: String(opts.retentionCheckSec),
    },
  });
  // Every read of a run goes through its archive once retention moved it out of Redis.
  world.runStore = createRunStore(world.bus.redis, world.keys, {
    archive: openRunArchive(runArchiveDir(world.memoryDir), world.keys),
  });
  active.world = world;
  const svcTmp = join(world.tmp, 'service-tmp');
  mkdirSync(svcTmp, { recursive: true });
  world.env.TMPDIR = svcTmp; // a temp dir a service leaves behind shows up here
  const book = runBook(world);
  const samples = [];
  const faults = [];
  const errors = [];
  const op = operator(world);
  try {
    addServices(world, { gateways: 1, agentConcurrency: 2 });
    scriptSoakModel(world, opts);
    await waitForStack(world);
    samples.push(await takeSample(world, { runsFinished: 0, runsCreated: 0 }));
    const plan = faultPlan(opts);
    let runsDone = false;
    const sampling = every(
      opts.sampleSec * 1000,
      () => runsDone,
      async () => {
        await op.resolveAlerts(); // the harness is the human at the dashboard for injected faults
        samples.push(await takeSample(world, { runsFinished: book.finished, runsCreated: book.created }));
      },
      errors,
    );
    const faulting = (async () => {
      let next = Date.now() + opts.faultEverySec * 1000;
      while (plan.length > 0 && !runsDone && Date.now() < deadline) {
        await sleep(500);
        if (Date.now() < next) continue;
        await book.refresh();
        const inFlight = book.inFlight();
        if (inFlight.length === 0) continue;
        faults.push(await faultWithRecovery(world, plan.shift(), inFlight, opts, log));
        next = Date.now() + opts.faultEverySec * 1000;
      }
    })();
    // Runs back to back, `parallel` in flight, until --runs or --hours; the smoke keeps them coming
    // until every planned fault found a run to hit. Past --hours no run starts, and those in flight
    // get settleSec to end.
    const wantMore = () =>
      Date.now() < deadline &&
      (book.created < opts.runs || (opts.smoke && plan.length > 0 && faults.length < opts.maxFaults));
    while (Date.now() < deadline + opts.settleSec * 1000) {
      await book.refresh();
      if (!wantMore() && book.inFlight().length === 0) break;
      while (wantMore() && book.inFlight().length < opts.parallel) {
        book.add(await enqueueWithRetry(world, `soak run ${book.created}`));
        log(`  run ${book.created} enqueued (${book.finished} ended)`);
      }
      await sleep(1000);
    }
    await faulting;
    runsDone = true;
    await sampling;
    await book.refresh();
    const runIds = [...book.runs.keys()];
    const end = await endChecks(world, { runIds, faults, opts, svcTmp });
    samples.push(await takeSample(world, { runsFinished: book.finished, runsCreated: book.created }));
    const retained = await afterRetention(world, opts, book.created);
    const growth = growthChecks(samples, opts, retained);
    return {
      durationMs: Date.now() - startedAt,
      hitDeadline: Date.now() >= deadline,
      runs: [...book.runs.values()],
      faults,
      samples,
      retained,
      end,
      growth,
      harness: {
        errors,
        alertsResolved: op.resolved,
        kills: world.stack.kills.length,
        restarts: world.stack.restarts,
        unexpectedExits: world.stack.unexpectedExits.map((e) => `${e.name} exited ${e.code}`),
      },
    };
  } finally {
    await world.cleanup();
    active.world = undefined;
  }
}
