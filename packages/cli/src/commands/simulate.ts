// `nightshift simulate`: how many agents and slots should I run? A discrete-event model of the
// night (core's capacity model, the gateway's scheduling rules) fed with a workload given on
// the command line or taken from a past run (`--from-run`), swept over the agent count.
import { loadConfig } from '@nightshift/config';
import { parseRunEvent, type RunEvent, type SimTask, simulate, sweepAgents } from '@nightshift/core';
import { ROLES, type Role } from '@nightshift/protocol';
import { createKeys, createRedisClient, createRunStore } from '@nightshift/redis';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';

/** `builder:20x1@300` → 20 builder tasks of 1 call of 300 ms. */
export function parseTasks(spec: string): SimTask[] {
  const out: SimTask[] = [];
  for (const part of spec.split(',').filter(Boolean)) {
    const m = /^([a-z]+):(\d+)x(\d+)@(\d+)(?:\+(\d+))?$/.exec(part.trim());
    if (!m || !(ROLES as readonly string[]).includes(m[1] ?? '')) {
      throw new Error(
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
      throw new Error(`--agents ${part}: expected <role>=<count>`);
    out[m[1] as Role] = Number(m[2]);
  }
  return out;
}

/** The workload of a recorded run: each completed step as one task with its measured duration. */
export function tasksFromRun(events: readonly RunEvent[]): SimTask[] {
  const requested = new Map<string, number>();
  const tasks: SimTask[] = [];
  for (const e of events) {
    if (e.type === 'step.requested') requested.set(e.messageId, Date.parse(e.at));
    if (e.type === 'step.completed' && e.role !== 'director') {
      const start = requested.get(e.messageId);
      if (start !== undefined)
        tasks.push({ role: e.role, calls: 1, latencyMs: Math.max(1, Date.parse(e.at) - start) });
    }
  }
  return tasks;
}

export function registerSimulate(program: Command, deps: CliDeps): void {
  program
    .command('simulate')
    .description('model a night: makespan, slot use and waits per role, and where more agents stop helping')
    .option('--tasks <spec>', 'workload, e.g. builder:20x3@400,scout:10x1@200')
    .option('--from-run <runId>', 'take the workload (roles, step durations) from a recorded run')
    .option('--agents <spec>', 'agents per role, e.g. builder=2,scout=1 (default 1 per role in the workload)')
    .option('--parallel <n>', 'OLLAMA_NUM_PARALLEL (default: the configured value)')
    .option('--sweep <role>', 'also sweep this role from 1 to --max agents')
    .option('--max <n>', 'largest agent count of the sweep', '6')
    .option('--json', 'machine-readable output', false)
    .action(
      async (opts: {
        tasks?: string;
        fromRun?: string;
        agents?: string;
        parallel?: string;
        sweep?: string;
        max: string;
        json: boolean;
      }) => {
        const config = loadConfig(deps.env ?? {});
        let tasks: SimTask[] = opts.tasks ? parseTasks(opts.tasks) : [];
        if (opts.fromRun) {
          const redis = createRedisClient(config.redis.url, { maxRetriesPerRequest: 2 });
          try {
            const stored = await createRunStore(redis, createKeys(config.redis.prefix)).read(opts.fromRun);
            tasks = [...tasks, ...tasksFromRun(stored.map((s) => parseRunEvent(s.event)))];
          } finally {
            redis.disconnect();
          }
        }
        if (tasks.length === 0) throw new Error('no workload: give --tasks or --from-run');
        const agents = opts.agents ? parseAgents(opts.agents) : {};
        for (const t of tasks) agents[t.role] ??= 1;
        const numParallel = opts.parallel === undefined ? config.ollama.numParallel : Number(opts.parallel);
        const result = simulate({ tasks, agents, numParallel });
        const sweep = opts.sweep
          ? sweepAgents({ tasks, agents, numParallel }, opts.sweep as Role, Number(opts.max))
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
          `makespan ${(result.makespanMs / 1000).toFixed(2)} s · slot utilisation ${(result.utilisation * 100).toFixed(1)}% · max calls waiting ${result.maxQueue}\n`,
        );
        for (const [role, w] of Object.entries(result.waits)) {
          deps.stdout(
            `  ${role.padEnd(11)} ${w.calls} calls, wait mean ${w.mean.toFixed(0)} ms, max ${w.max.toFixed(0)} ms\n`,
          );
        }
        if (sweep) {
          for (const p of sweep.points) {
            deps.stdout(
              `  ${opts.sweep}=${p.agents}: ${(p.makespanMs / 1000).toFixed(2)} s (${(p.utilisation * 100).toFixed(0)}% slots)\n`,
            );
          }
          deps.stdout(`more than ${sweep.knee} ${opts.sweep}(s) stops helping (< 5% gain)\n`);
        }
      },
    );
}
