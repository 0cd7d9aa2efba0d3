// Scripted replies of the fake models for a full run (P1 → P2 → P3 → P4 → finished), on Claude
// or on the Ollama fallback, plus the helpers scenarios use to start runs and wait for them.
import { fold, parseRunEvent } from '@nightshift/core';
import { createRunStore, enqueueRun } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';

const verdict = (decision, rationale) => JSON.stringify({ decision, rationale });
const TERMINAL = ['finished', 'aborted', 'failed', 'waiting-human'];

/** The Director's steps answer "finish" on the first review, so a run is one pass of the four phases. */
export function scriptRun(world) {
  world.anthropic.setScenario(anthropicRunRules());
  world.ollama.setScenario(ollamaRunRules());
}

/** Claude's rules for a run: frame the goal, then finish on the first review. */
export function anthropicRunRules() {
  return [
    { match: { contains: 'Frame the goal' }, reply: { content: 'Goal: make the chaos task pass.' } },
    { match: { contains: 'Verify the review of iteration' }, reply: { content: verdict('finish', 'clean') } },
  ];
}

/** Ollama rules for a run: the Director's fallback verdicts and an Inspector with no findings. */
export function ollamaRunRules() {
  return [
    {
      match: { role: 'director', contains: 'Verify the review of iteration' },
      reply: { content: verdict('finish', 'fallback: clean') },
    },
    { match: { role: 'director' }, reply: { content: 'Goal (fallback): make the chaos task pass.' } },
    { match: { role: 'inspector' }, reply: { content: '{"findings":[]}' } },
  ];
}

export async function startRuns(world, n, label) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const { runId } = await enqueueRun(
      world.redis.url,
      { task: `${label} run ${i}` },
      { prefix: world.prefix },
    );
    ids.push(runId);
  }
  return ids;
}

/** A run's status and events, through `world.runStore` when the world has one (e.g. archive-aware). */
export async function runStatus(world, runId) {
  const store = world.runStore ?? createRunStore(world.bus.redis, world.keys);
  const events = (await store.read(runId)).map((e) => parseRunEvent(e.event));
  return { status: events.length === 0 ? 'not-created' : fold(events).status, events };
}

/** Waits until every run is over (any terminal status); returns their final states. */
export async function waitForRuns(world, runIds, timeoutMs) {
  return waitFor(
    async () => {
      const states = [];
      for (const id of runIds) states.push({ runId: id, ...(await runStatus(world, id)) });
      return states.every((s) => TERMINAL.includes(s.status)) ? states : undefined;
    },
    { timeoutMs, intervalMs: 1000, what: `runs ${runIds.join(', ')} to end` },
  );
}

/**
 * Counts a run scenario in runs: a run that did not finish is a lost one, a step completed twice
 * for one request id a duplicated one. Returns how many finished.
 */
export function countRuns(result, world, runIds, runs) {
  const finished = runs.filter((r) => r.status === 'finished').length;
  result.unit = 'runs';
  result.requests = runIds.length;
  result.answered = finished;
  result.lost = runIds.length - finished;
  result.limiterMax = world.ollama.maxConcurrent;
  result.duplicated = 0;
  for (const r of runs) {
    const completed = r.events.filter((e) => e.type === 'step.completed').map((e) => e.messageId);
    result.duplicated += completed.length - new Set(completed).size;
  }
  return finished;
}
