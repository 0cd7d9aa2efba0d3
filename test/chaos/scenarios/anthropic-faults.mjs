import {
  checkRunsFold,
  diagnose,
  pendingWork,
  queueCounts,
  readWholeLog,
  streamIntegrity,
  waitForDrain,
} from '../lib/checks.mjs';
import { countRuns, ollamaRunRules, startRuns, waitForRuns } from '../lib/models.mjs';
import { check, checkStayedUp, finish, newResult } from '../lib/result.mjs';
import { addServices, createWorld, waitForStack } from '../lib/stack.mjs';

export async function anthropicFaultsScenario({ smoke, log }) {
  const started = Date.now();
  const size = smoke ? { runs: 1, timeoutMs: 180_000 } : { runs: 3, timeoutMs: 10 * 60_000 };
  const result = newResult(
    'anthropic-faults',
    `fake Anthropic 429 → 529 → 500 → hang → 529…; ${size.runs} run(s) must finish on the fallback`,
  );
  const world = await createWorld();
  try {
    world.anthropic.setScenario([
      { reply: { error: { status: 429, retryAfter: 1 } }, times: 1 },
      { reply: { error: { status: 529 } }, times: 1 },
      { reply: { error: { status: 500 } }, times: 1 },
      { reply: { hang: true }, times: 1 },
      { reply: { error: { status: 529 } } },
    ]);
    world.ollama.setScenario(ollamaRunRules());
    addServices(world, { gateways: 1, agentConcurrency: 1 });
    await waitForStack(world);
    const runIds = await startRuns(world, size.runs, 'anthropic-faults');
    log(`  ${runIds.length} run(s) started`);
    const runs = await waitForRuns(world, runIds, size.timeoutMs).catch((error) => {
      result.notes.push(error.message);
      return [];
    });
    await waitForDrain(world, result, 60_000);

    // Counted in runs here: a run that does not finish is a lost one.
    const finished = countRuns(result, world, runIds, runs);
    check(
      result,
      'every run finished',
      finished === runIds.length,
      `${finished}/${runIds.length}: ${runs.map((r) => r.status).join(', ')}`,
    );
    // Duplicated / lost at the level of a run: no step completed twice, none requested twice.
    for (const r of runs) {
      const completed = r.events.filter((e) => e.type === 'step.completed').map((e) => e.messageId);
      const dup = completed.length - new Set(completed).size;
      result.duplicated += dup;
      check(result, `run ${r.runId}: no step completed twice`, dup === 0, `${completed.length} completions`);
    }
    check(
      result,
      `limiter max ≤ ${result.limit}`,
      result.limiterMax <= result.limit,
      `fake Ollama saw ${result.limiterMax} at once`,
    );
    const statuses = world.anthropic.records.map((r) => r.status ?? (r.aborted ? 'hung' : 'pending'));
    result.details.anthropic = statuses;
    for (const want of [429, 529, 500])
      check(result, `Anthropic answered ${want} at least once`, statuses.includes(want));
    check(
      result,
      'a hung Anthropic call was given up',
      world.anthropic.records.some((r) => r.aborted || r.status === null),
      statuses.join(','),
    );
    const decisions = (await readWholeLog(world.bus))
      .map((e) => e.message)
      .filter((m) => m?.type === 'DECISION' && m.from === 'director' && runIds.includes(m.runId));
    check(
      result,
      'every DECISION says FALLBACK',
      decisions.length > 0 && decisions.every((m) => /FALLBACK/.test(`${m.content} ${m.context ?? ''}`)),
      `${decisions.length} decisions`,
    );
    check(
      result,
      'the Director asked the Ollama model instead',
      world.ollama.records.some((r) => r.role === 'director'),
    );
    const pending = pendingWork(await queueCounts(world.redis.url, world.prefix));
    check(result, 'nothing stuck (no job waiting or active)', pending === 0, `${pending} pending`);
    check(
      result,
      'no Anthropic call left open',
      world.anthropic.records.every((r) => r.end !== null || r.aborted),
    );
    await checkRunsFold(result, world.bus);
    const integrity = await streamIntegrity(world.bus);
    check(result, 'every stream entry parses', integrity.bad.length === 0, `${integrity.entries} entries`);
    checkStayedUp(result, world);
    result.summary = `Anthropic answered ${statuses.join(',')}; ${decisions.length} DECISION(s), all FALLBACK; runs ${finished}/${runIds.length}`;
    if (!result.checks.every((c) => c.ok)) {
      result.details.diagnosis = await diagnose(world);
      result.details.tails = world.stack.tails(15);
    }
  } finally {
    await world.cleanup();
  }
  return finish(result, started);
}
