// `nightshift simulate`: how many agents and slots should I run? Two models of the night, both
// core's and both with the gateway's scheduling rules: `--tasks`, a batch of independent tasks
// given on the command line; `--from-run`, a recorded run replayed through the workflow (its
// steps as the DAG of guide §4, its own calls and tool time; issue 24), alone or `--runs N` at
// once; either swept over one role's agent count.
import { type RecordedRun, readRecordedRun } from '@nightshift/client';
import { loadConfig } from '@nightshift/config';
import {
  type EngineResult,
  PlanInputError,
  planFromSample,
  type SimTask,
  sampleRun,
  simulate,
  simulateRuns,
  sweepAgents,
} from '@nightshift/core';
import { ROLES, type Role } from '@nightshift/protocol';
import { createArchivedRunStore, createKeys, createRedisClient } from '@nightshift/redis';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';

/** `builder:20x1@300` → 20 builder tasks of 1 call of 300 ms. */
export function parseTasks(spec: string): SimTask[] {
  const out: SimTask[] = [];
  for (const part of spec.split(',').filter(Boolean)) {
    const m = /^([a-z]+):(\d+)x(\d+)@(\d+)(?:\+(\d+))?$/.exec(part.trim());
    if (!m || !(ROLES as readonly string[]).includes(m[1] ?? '')) {
      throw new PlanInputError(
        `--tasks ${part}: expected <role>:<count>x<calls>@<latencyMs>[+<overheadMs>], e.g. builder:20x1@300`,
      );
    }
    for (let i = 0; i < Number(m[2]); i++) {
      out.push({
        role: m[1] as Role,
        calls: Number(m[3]),
        latencyMs: Number(m[4]),
        overheadMs: Number(m[5] ?? 0),
      });
    }
  }
  return out;
}

export function parseAgents(spec: string): Partial<Record<Role, number>> {
  const out: Partial<Record<Role, number>> = {};
  for (const part of spec.split(',').filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part.trim());
    if (!m || !(ROLES as readonly string[]).includes(m[1] ?? ''))
      throw new PlanInputError(`--agents ${part}: expected <role>=<count>, e.g. builder=2`);
    out[m[1] as Role] = Number(m[2]);
  }
  return out;
}

/** A recorded run replayed through the workflow simulator: `copies` of it at once. */
export function replayRun(
  recorded: RecordedRun,
  opts: {
    runId: string;
    copies: number;
    agents: Partial<Record<Role, number>>;
    numParallel: number;
    /** PLAN_LOAD_STRETCH: copies at once stretch each other's tool time. */
    loadStretch?: number;
  },
): { measuredMs: number; result: EngineResult } {
  const sample = sampleRun(recorded.events, recorded.calls);
  if (!sample)
    throw new PlanInputError(
      `run ${opts.runId} has not finished (or has no events): simulate --from-run needs a finished run`,
    );
  const runs = Array.from({ length: opts.copies }, (_, i) =>
    planFromSample(sample, `${opts.runId}#${i + 1}`),
  );
  return {
    measuredMs: sample.durationMs,
    result: simulateRuns({
      runs,
      agents: opts.agents,
      numParallel: opts.numParallel,
      ...(opts.loadStretch ? { loadStretch: opts.loadStretch } : {}),
    }),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function registerSimulate(program: Command, deps: CliDeps): void {
  program
    .command('simulate')
    .description('model a night: makespan, slot use and waits per role, and where more agents stop helping')
    .option('--tasks <spec>', 'independent tasks, e.g. builder:20x3@400,scout:10x1@200')
    .option(
      '--from-run <runId>',
      'replay a finished run through the workflow (its steps, calls and tool time)',
    )
    .option('--runs <n>', 'with --from-run: this many copies of the run at once', '1')
    .option('--agents <spec>', 'agents per role, e.g. builder=2,scout=1 (default 1 per role)')
    .option('--parallel <n>', 'OLLAMA_NUM_PARALLEL (default: the configured value)')
    .option('--sweep <role>', 'also sweep this role from 1 to --max agents')
    .option('--max <n>', 'largest agent count of the sweep', '6')
    .option('--json', 'machine-readable output', false)
    .action(
      async (opts: {
        tasks?: string;
        fromRun?: string;
        runs: string;
        agents?: string;
        parallel?: string;
        sweep?: string;
        max: string;
        json: boolean;
      }) => {
        const config = loadConfig(deps.env ?? {});
        if (opts.tasks && opts.fromRun) throw new PlanInputError('give --tasks or --from-run, not both');
        if (!opts.tasks && !opts.fromRun) throw new PlanInputError('no workload: give --tasks or --from-run');
        if (opts.sweep !== undefined && !(ROLES as readonly string[]).includes(opts.sweep))
          throw new PlanInputError(`--sweep ${opts.sweep}: expected a role (${ROLES.join(', ')})`);
        const agents = opts.agents ? parseAgents(opts.agents) : {};
        const numParallel = opts.parallel === undefined ? config.ollama.numParallel : Number(opts.parallel);
        if (!Number.isInteger(numParallel) || numParallel < 1)
          throw new PlanInputError(`--parallel ${opts.parallel}: expected a positive integer`);
        const max = Number(opts.max);
        if (opts.fromRun) {
          const runId = opts.fromRun;
          const copies = Number(opts.runs);
          if (!Number.isInteger(copies) || copies < 1)
            throw new PlanInputError(`--runs ${opts.runs}: expected a positive integer`);
          const keys = createKeys(config.redis.prefix);
          const redis = createRedisClient(config.redis.url, { maxRetriesPerRequest: 2 });
          let recorded: RecordedRun;
          try {
            // Issue 21 §2: a run archived out of Redis replays from its archive.
            const { store } = createArchivedRunStore(redis, keys, config.memoryDir);
            recorded = await readRecordedRun(redis, store, keys, runId);
          } finally {
            redis.disconnect();
          }
          const { measuredMs, result } = replayRun(recorded, {
            runId,
            copies,
            agents,
            numParallel,
            loadStretch: config.plan.loadStretch,
          });
          const sweep = opts.sweep
            ? Array.from({ length: max }, (_, i) => ({
                agents: i + 1,
                makespanMs: replayRun(recorded, {
                  runId,
                  copies,
                  agents: { ...agents, [opts.sweep as Role]: i + 1 },
                  numParallel,
                  loadStretch: config.plan.loadStretch,
                }).result.makespanMs,
              }))
            : undefined;
          if (opts.json) {
            deps.stdout(
              `${JSON.stringify({ input: { runId, copies, agents, numParallel }, measuredMs, result, sweep })}\n`,
            );
            return;
          }
          deps.stdout(
            `replayed run ${runId} through the workflow: ${copies} at once, ${numParallel} slots\n`,
          );
          deps.stdout(
            `makespan ${seconds(result.makespanMs)} (the run took ${seconds(measuredMs)} alone) · slot utilisation ${(result.utilisation * 100).toFixed(1)}%\n`,
          );
          for (const [role, w] of Object.entries(result.agentWaits))
            if (w.maxMs > 0)
              deps.stdout(
                `  waits for a ${role.padEnd(10)} ${w.calls} times, mean ${w.meanMs.toFixed(0)} ms\n`,
              );
          for (const [role, w] of Object.entries(result.slotWaits))
            if (w.maxMs > 0)
              deps.stdout(
                `  ${role.padEnd(11)} waits for a slot: ${w.calls} calls, mean ${w.meanMs.toFixed(0)} ms, max ${w.maxMs.toFixed(0)} ms\n`,
              );
          if (sweep) {
            for (const p of sweep) deps.stdout(`  ${opts.sweep}=${p.agents}: ${seconds(p.makespanMs)}\n`);
            const knee = sweep.findIndex(
              (p, i) => i > 0 && p.makespanMs > (sweep[i - 1]?.makespanMs ?? 0) * 0.95,
            );
            deps.stdout(`more than ${knee < 0 ? max : knee} ${opts.sweep}(s) stops helping (< 5% gain)\n`);
          }
          return;
        }
        const tasks: SimTask[] = parseTasks(opts.tasks ?? '');
        if (tasks.length === 0) throw new PlanInputError('no workload: --tasks is empty');
        for (const t of tasks) agents[t.role] ??= 1;
        const result = simulate({ tasks, agents, numParallel });
        const sweep = opts.sweep
          ? sweepAgents({ tasks, agents, numParallel }, opts.sweep as Role, max)
          : undefined;
        if (opts.json) {
          deps.stdout(
            `${JSON.stringify({ input: { tasks: tasks.length, agents, numParallel }, result, sweep })}\n`,
          );
          return;
        }
        deps.stdout(
          `simulated ${tasks.length} tasks, ${numParallel} slots, agents ${JSON.stringify(agents)}\n`,
        );
        deps.stdout(
          `makespan ${seconds(result.makespanMs)} · slot utilisation ${(result.utilisation * 100).toFixed(1)}% · max calls waiting ${result.maxQueue}\n`,
        );
        for (const [role, w] of Object.entries(result.waits)) {
          deps.stdout(
            `  ${role.padEnd(11)} ${w.calls} calls, wait mean ${w.mean.toFixed(0)} ms, max ${w.max.toFixed(0)} ms\n`,
          );
        }
        if (sweep) {
          for (const p of sweep.points) {
            deps.stdout(
              `  ${opts.sweep}=${p.agents}: ${seconds(p.makespanMs)} (${(p.utilisation * 100).toFixed(0)}% slots)\n`,
            );
          }
          deps.stdout(`more than ${sweep.knee} ${opts.sweep}(s) stops helping (< 5% gain)\n`);
        }
      },
    );
}
