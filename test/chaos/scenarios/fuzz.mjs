// Scenario "fuzz": N random and malformed inputs from fast-check — raw entries into every bus
// stream, raw jobs onto every queue, bad objects handed to publish() — with valid REQUESTs
// interleaved. Expected: no service crashes; publish() refuses every bad object; every bad stream
// entry is dead-lettered (with a reason) by each consumer group that must refuse it; every bad
// agent job is dead-lettered and failed; bad `runs`/`llm` jobs fail with a reason; every valid
// request is answered exactly once; no consumer group is left with pending entries.

import { LlmJobDataSchema } from '@nightshift/llm';
import { MessageSchema } from '@nightshift/protocol';
import { deadLetterJobId, QUEUE_NAMES } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { Queue } from 'bullmq';
import { answerCounts, answerTracker, diagnose, requestBatch, sleep } from '../lib/checks.mjs';
import {
  entryArb,
  expectedRejections,
  isValidAgentJob,
  isValidRunJob,
  payloadArb,
  pick,
  QUEUES,
  rng,
  STREAMS,
  sample,
} from '../lib/fuzz-gen.mjs';
import { operator } from '../lib/operator.mjs';
import { SENTINEL_BUILT } from '../lib/procs.mjs';
import { check, checkCounts, checkStayedUp, finish, newResult } from '../lib/result.mjs';
import { addServices, createWorld, waitForStack } from '../lib/stack.mjs';

export async function fuzzScenario({ smoke, log }) {
  const started = Date.now();
  const total = smoke ? 1000 : 10_000;
  const seed = Number(process.env.CHAOS_SEED ?? 20261127);
  const result = newResult(
    'fuzz',
    `${total} fast-check inputs (seed ${seed}) into every stream, queue and publish()`,
  );
  const world = await createWorld();
  const queues = new Map();
  const queue = (name) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: world.bus.redis, prefix: world.prefix });
      q.on('error', () => undefined);
      queues.set(name, q);
    }
    return q;
  };
  world.onCleanup(async () => {
    for (const q of queues.values()) await q.close();
  });
  try {
    addServices(world, { gateways: 1, agentConcurrency: 2 });
    await waitForStack(world);
    const tracker = answerTracker(world.bus);
    world.onCleanup(() => tracker.stop());

    // The mix: 45% stream entries, 40% jobs, 10% publish() of bad objects, 5% valid requests.
    const random = rng(seed);
    const nStreams = Math.round(total * 0.45);
    const nJobs = Math.round(total * 0.4);
    const nPublish = Math.round(total * 0.1);
    const nValid = total - nStreams - nJobs - nPublish;
    const entries = sample(entryArb, nStreams, seed);
    const payloads = sample(payloadArb, nJobs + nPublish * 3, seed + 1);
    const valid = requestBatch('run_chaos_fuzz', nValid, 'fuzz');

    const injected = { entries: [], jobs: [], publishRejected: 0, publishAccepted: [] };
    const expectDl = new Map(); // `${stream}|${entryId}|${group}` → true
    const unread = {};
    let validAt = 0;
    const validEvery = Math.max(1, Math.floor((nStreams + nJobs) / Math.max(1, nValid)));
    const publishValid = () => (validAt < valid.length ? world.bus.publish(valid[validAt++]) : undefined);

    let step = 0;
    for (const fields of entries) {
      const target = pick(STREAMS, random());
      const key = world.keys.busTo(target.name === 'log' ? 'ALL' : target.name);
      const streamKey = target.name === 'log' ? world.keys.busLog : key;
      const id = await world.bus.redis.xadd(streamKey, '*', ...Object.entries(fields).flat());
      injected.entries.push({ stream: streamKey, id });
      const groups = expectedRejections(target.name, fields, { sentinel: SENTINEL_BUILT });
      if (Object.keys(groups).length === 0) unread[target.name] = (unread[target.name] ?? 0) + 1;
      for (const [group, reject] of Object.entries(groups))
        if (reject) expectDl.set(`${streamKey}|${id}|${group}`, true);
      if (++step % validEvery === 0) await publishValid();
    }
    log(`  ${entries.length} stream entries written; ${expectDl.size} dead-letters expected from them`);

    let p = 0;
    let jobs = 0;
    const expectAgentDl = new Set();
    while (jobs < nJobs && p < payloads.length) {
      const data = payloads[p++];
      const target = pick(QUEUES, random());
      if (target.role && target.role !== 'scribe' && isValidAgentJob(target.role, data)) continue;
      if (target.role === 'scribe' && MessageSchema.safeParse(data).success) continue;
      if (target.name === QUEUE_NAMES.runs && isValidRunJob(data)) continue;
      const jobId = `fz-${jobs}`;
      await queue(target.name).add('fuzz', data, { jobId, priority: 3 });
      injected.jobs.push({ queue: target.name, jobId });
      // Every bad job is dead-lettered: agent jobs by the agent, runs by the Director's intake,
      // llm by the gateway (a well-formed llm job would be a real call: those are not counted).
      if (target.role)
        expectAgentDl.add(
          target.name === QUEUE_NAMES.agent('scribe')
            ? `scribe|${jobId}`
            : deadLetterJobId(target.name, jobId),
        );
      else if (target.name === QUEUE_NAMES.runs || !LlmJobDataSchema.safeParse(data).success)
        expectAgentDl.add(deadLetterJobId(target.name, jobId));
      jobs++;
      if (jobs % validEvery === 0) await publishValid();
    }
    log(`  ${injected.jobs.length} jobs queued`);

    // publish() must refuse what the schema or the topology forbids, and write nothing.
    let tried = 0;
    while (tried < nPublish && p < payloads.length) {
      const data = payloads[p++];
      const parsed = MessageSchema.safeParse(data);
      if (parsed.success) continue; // a valid message would rightly be accepted: only bad ones here
      tried++;
      try {
        await world.bus.publish(data);
        injected.publishAccepted.push(data);
      } catch {
        injected.publishRejected++;
      }
    }
    while (validAt < valid.length) await publishValid();
    log(
      `  publish(): ${injected.publishRejected}/${tried} refused; ${valid.length} valid requests published`,
    );

    // Settle: every valid request answered, every agent job dead-lettered, every injected job
    // finished (failed), and no consumer group holding a pending entry.
    const dead = queue(QUEUE_NAMES.deadLetter);
    const groupsOf = {
      [world.keys.busTo('director')]: ['director'],
      [world.keys.busTo('ALL')]: ['director'],
      [world.keys.busLog]: SENTINEL_BUILT ? ['scribe', 'sentinel'] : ['scribe'],
    };
    const groupState = async () => {
      const out = {};
      for (const [stream, groups] of Object.entries(groupsOf)) {
        // XINFO GROUPS (Redis 7): pending = delivered, not acked; lag = not delivered yet.
        const all = await world.bus.redis.xinfo('GROUPS', stream).catch(() => []);
        for (const g of all) {
          const rec = {};
          for (let i = 0; i < g.length; i += 2) rec[g[i]] = g[i + 1];
          if (groups.includes(rec.name))
            out[`${stream.slice(world.prefix.length + 1)}/${rec.name}`] = {
              pending: rec.pending,
              lag: rec.lag,
            };
        }
      }
      return out;
    };
    const pendingInGroups = async () =>
      Object.values(await groupState()).reduce((n, g) => n + Number(g.pending ?? 0) + Number(g.lag ?? 0), 0);
    // The Sentinel's circuit breaker counts a poison job's failure like any other: five in a row
    // pause the queue for 30 s, again and again while bad jobs keep coming; and 400 jobs piling up
    // behind paused queues trip the queue-depth rule (L3: every queue paused). The harness plays
    // the operator who resumes the queues and resolves the alerts, and reports how often it had to.
    const op = operator(world, queue);
    const allQueues = QUEUES.map((q) => q.name);
    const settle = smoke ? 180_000 : 20 * 60_000;
    await waitFor(
      async () => {
        await op.releaseCircuits(allQueues);
        await op.resolveAlerts();
        if (!valid.every((m) => tracker.has(m.id))) return false;
        const counts = await dead.getJobCounts();
        const dlTotal = Object.values(counts).reduce((s, n) => s + n, 0);
        if (dlTotal < expectDl.size + expectAgentDl.size) return false;
        let finished = 0;
        for (const q of new Set(injected.jobs.map((j) => j.queue))) {
          const c = await queue(q).getJobCounts('failed', 'completed');
          finished += c.failed + c.completed;
        }
        // Agent queues also hold the valid requests (completed): compare with at least the injected.
        if (finished < injected.jobs.length) return false;
        return (await pendingInGroups()) === 0;
      },
      { timeoutMs: settle, intervalMs: 2000, what: 'the fuzz input to be dealt with' },
    ).catch((error) => result.notes.push(error.message));

    // Count, one by one.
    const letters = await dead.getJobs(['prioritized', 'waiting', 'paused', 'delayed'], 0, -1);
    const byEntry = new Map();
    const byId = new Map();
    let scribeLetters = 0;
    let withoutReason = 0;
    for (const job of letters) {
      const d = job.data ?? {};
      if (typeof d.reason !== 'string' || d.reason === '') withoutReason++;
      if (d.stream && d.entryId && d.group) byEntry.set(`${d.stream}|${d.entryId}|${d.group}`, d.reason);
      byId.set(String(job.id), d.reason);
      if (d.source === QUEUE_NAMES.agent('scribe')) scribeLetters++;
    }
    const missingEntries = [...expectDl.keys()].filter((k) => !byEntry.has(k));
    const agentExpected = [...expectAgentDl].filter((k) => !k.startsWith('scribe|'));
    const scribeExpected = [...expectAgentDl].filter((k) => k.startsWith('scribe|')).length;
    const missingJobs = agentExpected.filter((k) => !byId.has(k));
    const notFailed = [];
    const failedWithoutReason = [];
    for (const { queue: q, jobId } of injected.jobs) {
      const job = await queue(q).getJob(jobId);
      const state = job ? await job.getState() : 'missing';
      if (state !== 'failed') notFailed.push(`${q}/${jobId}=${state}`);
      else if (!job.failedReason) failedWithoutReason.push(`${q}/${jobId}`);
    }
    const dlCounts = await dead.getJobCounts();
    const counts = await answerCounts(
      world.bus,
      valid.map((m) => m.id),
    );
    result.requests = valid.length;
    result.answered = counts.answered;
    checkCounts(result, { ...counts, limiterMax: world.ollama.maxConcurrent });
    checkStayedUp(result, world, 'no service crashed (every PID alive)');
    check(
      result,
      'publish() refused every bad object',
      injected.publishAccepted.length === 0,
      `${injected.publishRejected} refused, ${injected.publishAccepted.length} accepted`,
    );
    check(
      result,
      'every bad stream entry dead-lettered by each group that must refuse it',
      missingEntries.length === 0,
      `${expectDl.size - missingEntries.length}/${expectDl.size}${missingEntries.length ? `; missing e.g. ${missingEntries.slice(0, 3).join(', ')}` : ''}`,
    );
    check(
      result,
      'every bad agent, runs and llm job dead-lettered',
      missingJobs.length === 0,
      `${agentExpected.length - missingJobs.length}/${agentExpected.length}`,
    );
    check(
      result,
      'every bad agent.scribe job dead-lettered',
      scribeLetters >= scribeExpected,
      `${scribeLetters}/${scribeExpected}`,
    );
    check(
      result,
      'every injected job failed for good',
      notFailed.length === 0,
      notFailed.slice(0, 5).join(', ') || `${injected.jobs.length} failed`,
    );
    check(
      result,
      'every failure and dead-letter has a reason',
      withoutReason === 0 && failedWithoutReason.length === 0,
      `${withoutReason} letters, ${failedWithoutReason.length} jobs without`,
    );
    const pendingLeft = await pendingInGroups();
    check(result, 'no consumer group left with pending/unread entries', pendingLeft === 0, `${pendingLeft}`);
    result.details.groups = await groupState();
    const circuitReleases = op.released;
    if (Object.keys(circuitReleases).length > 0) {
      result.details.circuitReleasedByHarness = circuitReleases;
      result.notes.push(
        `FINDING: the Sentinel's circuit breaker paused queues on poison-job failures; the harness (as operator) resumed them ${Object.values(circuitReleases).reduce((a, b) => a + b, 0)} time(s): ${JSON.stringify(circuitReleases)}`,
      );
    }
    if (op.resolved.length > 0) {
      result.details.alertsResolvedByHarness = op.resolved;
      result.notes.push(`alerts resolved by the harness (as operator): ${op.resolved.join('; ')}`);
    }
    const byQueue = {};
    for (const j of injected.jobs) byQueue[j.queue] = (byQueue[j.queue] ?? 0) + 1;
    result.details.fuzz = {
      seed,
      total,
      streamEntries: entries.length,
      jobs: injected.jobs.length,
      jobsByQueue: byQueue,
      publishTried: tried,
      publishRejected: injected.publishRejected,
      valid: valid.length,
      deadLetterExpectedFromStreams: expectDl.size,
      deadLetterExpectedFromAgentJobs: expectAgentDl.size,
      deadLetterJobCounts: dlCounts,
      unreadNoConsumer: unread,
    };
    const dlTotal = Object.values(dlCounts).reduce((s, n) => s + n, 0);
    const released = Object.values(circuitReleases).reduce((a, b) => a + b, 0);
    result.summary = `${released ? `circuit holds released by harness ${released}×; ` : ''}${op.resolved.length ? `${op.resolved.length} alert(s) resolved by harness; ` : ''}${entries.length} entries + ${injected.jobs.length} jobs + ${tried} bad publishes; dead-letter holds ${dlTotal}; ${Object.values(unread).reduce((s, n) => s + n, 0)} entries in inboxes nobody reads`;
    if (!result.checks.every((c) => c.ok)) {
      result.details.diagnosis = await diagnose(world);
      result.details.tails = world.stack.tails(15);
    }
    await sleep(0);
  } finally {
    await world.cleanup();
  }
  return finish(result, started);
}
