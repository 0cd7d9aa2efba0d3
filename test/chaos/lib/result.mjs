// One scenario's result: the three headline counts (lost, duplicated, limiter max) plus named
// checks; a scenario passes only when it ran at least one check and every check held.
import { NUM_PARALLEL } from './stack.mjs';

export function newResult(scenario, what) {
  return {
    scenario,
    what,
    ok: false,
    lost: null,
    duplicated: null,
    limiterMax: null,
    limit: NUM_PARALLEL,
    requests: 0,
    answered: 0,
    durationMs: 0,
    checks: [],
    notes: [],
    details: {},
  };
}

export function check(result, name, ok, detail) {
  result.checks.push({ name, ok: Boolean(ok), ...(detail === undefined ? {} : { detail: String(detail) }) });
  return Boolean(ok);
}

/** The three counts every scenario asserts: nothing lost, nothing answered twice, limiter held. */
export function checkCounts(result, { lost, duplicated, limiterMax }) {
  result.lost = lost.length;
  result.duplicated = duplicated.length;
  result.limiterMax = limiterMax;
  check(
    result,
    'lost = 0',
    lost.length === 0,
    lost.length ? `unanswered: ${lost.slice(0, 5).join(', ')}` : undefined,
  );
  check(
    result,
    'duplicated = 0',
    duplicated.length === 0,
    duplicated.length ? `answered twice: ${duplicated.slice(0, 5).join(', ')}` : undefined,
  );
  check(
    result,
    `limiter max ≤ ${NUM_PARALLEL}`,
    limiterMax <= NUM_PARALLEL,
    `fake Ollama saw ${limiterMax} at once`,
  );
}

export function finish(result, startedAt) {
  result.durationMs = Date.now() - startedAt;
  result.ok = result.checks.length > 0 && result.checks.every((c) => c.ok);
  return result;
}

/** Every service process still up, none exited that the harness did not stop. */
export function checkStayedUp(result, world, name = 'services stayed up') {
  const exits = world.stack.unexpectedExits;
  return check(
    result,
    name,
    exits.length === 0 && world.stack.allAlive(),
    exits.map((e) => `${e.name} exited ${e.code}`).join('; ') || `${world.stack.current.length} alive`,
  );
}
