// Scenario "kill -9": while N requests (and a few full runs) go through the team, a random
// service — an agent of each role, a gateway, the Director, the Scribe, the Sentinel — is killed
// every few seconds and started again by the harness's supervisor. Counted from bus:log: every
// request answered exactly once; from the fake Ollama: never more than 2 calls at once.
import { waitFor } from '@nightshift/testkit';
import {
  answerCounts,
  answerTracker,
  checkRunsFold,
  diagnose,
  publishPaced,
  queueCounts,
  requestBatch,
  sleep,
  streamIntegrity,
  waitForDrain,
} from '../lib/checks.mjs';
import { scriptRun, startRuns, waitForRuns } from '../lib/models.mjs';
import { check, checkCounts, finish, newResult } from '../lib/result.mjs';
import { addServices, createWorld, waitForStack } from '../lib/stack.mjs';

export async function killScenario({ smoke, log }) {
  const started = Date.now();
  const size = smoke
    ? { requests: 100, runs: 1, killEveryMs: 1500, timeoutMs: 240_000 }
    : { requests: 1000, runs: 3, killEveryMs: 3000, timeoutMs: 20 * 60_000 };
  const result = newResult(
    'kill-9',
    `kill -9 a random service every ${size.killEveryMs / 1000} s during ${size.requests} requests + ${size.runs} run(s)`,
  );
  const world = await createWorld({ stackOptions: { restart: true, restartDelayMs: 500 } });
  let killing = false;
  let killer = Promise.resolve();
  try {
    addServices(world, { gateways: 2, agentConcurrency: 3 });
    scriptRun(world);
    await waitForStack(world);
    log(`  stack up: ${world.stack.slots.join(', ')}`);
    const tracker = answerTracker(world.bus);
    world.onCleanup(() => tracker.stop());

    // Every slot once per cycle, in a fresh random order each cycle: over the run each service
    // dies, in no predictable pattern.
    killing = true;
    killer = (async () => {
      let cycle = [];
      while (killing) {
        await sleep(size.killEveryMs);
        if (!killing) break;
        if (cycle.length === 0) cycle = [...world.stack.slots].sort(() => Math.random() - 0.5);
        const slot = cycle.pop();
        await world.stack.kill(slot);
      }
    })();

    const runIds = await startRuns(world, size.runs, 'kill-9');
    const messages = requestBatch('run_chaos_kill', size.requests, 'kill-9');
    await publishPaced(world.bus, tracker, messages, { maxOutstanding: 40 });
    log(`  published ${messages.length}; ${tracker.answered} answered so far`);
    await waitFor(() => messages.every((m) => tracker.has(m.id)), {
      timeoutMs: size.timeoutMs,
      intervalMs: 500,
      what: `all ${messages.length} requests answered (${tracker.answered} so far)`,
    }).catch((error) => result.notes.push(String(error.message)));
    const runs = await waitForRuns(world, runIds, Math.max(60_000, size.timeoutMs / 2)).catch((error) => {
      result.notes.push(String(error.message));
      return [];
    });
    killing = false;
    await killer;
    // Drained: no job waiting or active anywhere. A second answer could only come from a job
    // still running, so once everything is idle the counts are final.
    await waitForDrain(world, result, 90_000);

    const counts = await answerCounts(
      world.bus,
      messages.map((m) => m.id),
    );
    result.requests = messages.length;
    result.answered = counts.answered;
    checkCounts(result, { ...counts, limiterMax: world.ollama.maxConcurrent });
    const kills = {};
    for (const k of world.stack.kills) kills[k.slot] = (kills[k.slot] ?? 0) + 1;
    result.details.kills = kills;
    result.details.restarts = world.stack.restarts;
    check(
      result,
      'services killed',
      world.stack.kills.length > 0,
      `${world.stack.kills.length} kills: ${JSON.stringify(kills)}`,
    );
    check(
      result,
      'no unexpected exit',
      world.stack.unexpectedExits.length === 0,
      world.stack.unexpectedExits.map((e) => `${e.name} exited ${e.code}`).join('; ') || 'none',
    );
    const finished = runs.filter((r) => r.status === 'finished').length;
    result.details.runs = { started: runIds.length, finished, statuses: runs.map((r) => r.status) };
    check(result, 'every run finished', finished === runIds.length, `${finished}/${runIds.length}`);
    await checkRunsFold(result, world.bus);
    const integrity = await streamIntegrity(world.bus);
    check(
      result,
      'every stream entry parses',
      integrity.bad.length === 0,
      `${integrity.entries} entries, ${integrity.bad.length} bad`,
    );
    result.details.queues = await queueCounts(world.redis.url, world.prefix);
    result.summary = `${world.stack.kills.length} kills over ${Object.keys(kills).length} services, ${world.stack.restarts} restarts; runs ${finished}/${runIds.length} finished`;
    if (!result.checks.every((c) => c.ok)) {
      result.details.diagnosis = await diagnose(world);
      result.details.tails = world.stack.tails(15);
    }
  } finally {
    killing = false;
    await killer.catch(() => undefined);
    await world.cleanup();
  }
  return finish(result, started);
}
