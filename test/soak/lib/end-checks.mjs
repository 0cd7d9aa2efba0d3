// The end-of-soak checks (issue 21 §4), each read back from Redis and the disk: every run ended
// well, folds and replays as recorded; no orphan job, no pending stream entry, nothing left in the
// workspace or temp dirs. Runs are read through their archive once retention moved them.
import { existsSync, readdirSync } from 'node:fs';
import { loadConfig } from '@nightshift/config';
import { replay } from '@nightshift/core';
import { waitFor } from '@nightshift/testkit';
import { foldRuns, pendingWork, queueCounts } from '../../chaos/lib/checks.mjs';

/** A run may wait for a human only for a reason a fault explains (the model gone, a step timed out). */
const FAULT_REASON = /ollama|llm|model|time(d)? ?out|overdue|unavailable|connect|redis|stall|alert|escalat/i;

export function check(checks, name, ok, detail, status) {
  checks.push({
    name,
    ok: Boolean(ok),
    status: status ?? (ok ? 'pass' : 'fail'),
    detail: String(detail ?? ''),
  });
}

/** Consumer groups of every stream of the prefix with entries delivered and never acked. */
async function groupsWithPending(redis, prefix) {
  const out = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'TYPE', 'stream', 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      for (const raw of await redis.xinfo('GROUPS', key)) {
        const group = {};
        for (let i = 0; i < raw.length; i += 2) group[raw[i]] = raw[i + 1];
        if (Number(group.pending) > 0) out.push(`${key} ${group.name}: ${group.pending}`);
      }
    }
  } while (cursor !== '0');
  return out;
}

/** Entries of `dir` that are not a run's checkout (a temp build folder, a stray copy). */
function strayEntries(dir, runIds) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => !runIds.has(name));
}

/**
 * What is left in the workspace and the services' temp dir, each with what may have left it. A
 * process killed mid-checkout or mid-command leaves a checkout build folder
 * (`<runId>.tmp-<host>-<pid>-<time>`, run-checkout.ts) or a command's HOME
 * (`nightshift-home-<host>-<pid>-<time>-XXXXXX`, tools/process.ts); the restarted Director or agent
 * sweeps those of dead makers at start (tools/leftovers.ts), so by the end nothing may be left: a
 * leftover of a killed pid means the sweep missed it, and fails like anything else.
 */
function leftoversOf(stray, temp, kills) {
  const killed = new Map(kills.map((k) => [String(k.pid), k.slot]));
  const by = (name) => {
    const pid = /-(\d+)-[0-9a-z]+(?:-[A-Za-z0-9]{6})?$/.exec(name)?.[1];
    return pid !== undefined && killed.has(pid) ? ` (kill -9 of ${killed.get(pid)}; not swept)` : '';
  };
  return [...stray.map((n) => `workspace/${n}${by(n)}`), ...temp.map((n) => `tmp/${n}${by(n)}`)];
}

/**
 * Runs every end check; `faults` explains a run that waits for a human. Waits up to settleSec for
 * queues and consumer groups to empty (the services are live and finish what is in hand).
 */
export async function endChecks(world, { runIds, faults, opts, svcTmp }) {
  const checks = [];
  const folds = await foldRuns(world.bus, runIds, world.runStore);
  const unexplained = folds.filter(
    (r) =>
      r.status !== 'finished' &&
      !(
        r.status === 'waiting-human' &&
        faults.length > 0 &&
        FAULT_REASON.test(JSON.stringify(r.events.filter((e) => e.type === 'run.waiting-human')))
      ),
  );
  const finished = folds.filter((r) => r.status === 'finished').length;
  check(
    checks,
    'every run finished (or waits for a human for a fault’s reason)',
    folds.length === runIds.length && unexplained.length === 0,
    `${finished}/${runIds.length} finished${unexplained.length ? `; ${unexplained.map((r) => `${r.runId} ${r.status}`).join(', ')}` : ''}`,
  );
  const unfoldable = folds.filter((r) => r.status === 'unfoldable');
  check(
    checks,
    'every run’s events fold',
    unfoldable.length === 0,
    unfoldable.map((r) => `${r.runId}: ${r.error}`).join('; ') || `${folds.length} runs`,
  );

  const config = loadConfig(world.env);
  const workflow = {
    maxIterations: config.workflow.maxIterations,
    maxStepAttempts: config.detection.sameErrorRepeats,
  };
  const diverged = [];
  for (const r of folds.filter((x) => x.events !== undefined)) {
    const result = replay(r.events, workflow);
    if (result.divergence || result.steps.length !== r.events.length || result.final.status !== r.status)
      diverged.push(`${r.runId}: ${result.divergence?.reason ?? `replayed to ${result.final.status}`}`);
  }
  check(
    checks,
    'replay agrees with every recorded run',
    diverged.length === 0,
    diverged.join('; ') || 'identical',
  );

  let counts = {};
  const drained = await waitFor(
    async () => {
      counts = await queueCounts(world.redis.url, world.prefix);
      return pendingWork(counts) === 0;
    },
    { timeoutMs: opts.settleSec * 1000, intervalMs: 1000, what: 'the queues to empty' },
  ).catch(() => false);
  const busy = Object.entries(counts)
    .filter(([, c]) => (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) > 0)
    .map(([name, c]) => `${name} ${JSON.stringify(c)}`);
  check(checks, 'no orphan job in any queue', drained, busy.join('; ') || 'every queue empty');

  let pending = [];
  const acked = await waitFor(
    async () => {
      pending = await groupsWithPending(world.bus.redis, world.prefix);
      return pending.length === 0;
    },
    { timeoutMs: opts.settleSec * 1000, intervalMs: 1000, what: 'consumer groups to ack' },
  ).catch(() => false);
  check(checks, 'no consumer group with pending entries', acked, pending.join('; ') || 'none pending');

  const ids = new Set(runIds);
  const stray = strayEntries(world.env.WORKSPACE_DIR, ids);
  const temp = existsSync(svcTmp) ? readdirSync(svcTmp) : [];
  const leftovers = leftoversOf(stray, temp, world.stack.kills);
  check(
    checks,
    'no worktree or temp dir left behind (what a kill -9 left is swept at the restart)',
    leftovers.length === 0,
    [
      `${ids.size} checkouts, one per run`,
      leftovers.length ? `LEFT: ${leftovers.join(', ')}` : 'nothing else',
    ].join('; '),
  );
  return { checks, folds, queues: counts, leftovers };
}
