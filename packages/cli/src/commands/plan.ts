// `nightshift plan`: tonight's forecast (issue 24 §2). The runs waiting in `runs` and those under
// way (or a file of tasks), the agents alive (or --agents) and the slots, learned from the last
// finished runs: when each run should end (p50/p90), how busy the slots are, where agents wait,
// what one more agent or slot would change, and with --until which runs will not make it.
import { readFileSync } from 'node:fs';
import { liveAgents, pickedUpFromJobs, readQueued, readRuns } from '@nightshift/client';
import { loadConfig } from '@nightshift/config';
import { forecast, PlanInputError, type QueuedRun } from '@nightshift/core';
import { createArchivedRunStore, createKeys, createRedisClient } from '@nightshift/redis';
import { Queue } from 'bullmq';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { recordForecasts, reviewRuns } from '../plan/recorded.js';
import { parseTaskFile, parseUntil, renderPlan } from '../plan/render.js';
import { renderReview } from '../plan/review.js';
import { parseAgents } from './simulate.js';

const positiveInt = (text: string, flag: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new PlanInputError(`${flag} ${text}: expected a positive integer`);
  return n;
};

export function registerPlan(program: Command, deps: CliDeps): void {
  program
    .command('plan')
    .description(
      "forecast tonight's queue: when each run ends, slot use, waits, what more agents or slots would change",
    )
    .option(
      '--tasks-file <path>',
      'forecast these tasks (one per line, or a JSON array) instead of the queue',
    )
    .option('--agents <spec>', 'agents per role, e.g. builder=2,scout=1 (default: the agents alive, else 1)')
    .option('--parallel <n>', 'OLLAMA_NUM_PARALLEL (default: the configured value)')
    .option('--history <n>', 'learn from the latest n finished runs (default PLAN_HISTORY_RUNS, 20)')
    .option(
      '--until <time>',
      'a deadline (HH:MM UTC, the next one, or ISO): which runs will not finish by then',
    )
    .option(
      '--director <provider>',
      'where the Director calls go: ollama (a slot, as recorded) or anthropic (no slot)',
      'ollama',
    )
    .option('--samples <n>', 'simulated nights to draw (default PLAN_SAMPLES, 200)')
    .option('--seed <n>', 'seed of the draws (same seed, same forecast)', '1')
    .option('--record', "keep each run's forecast (the first one) for `plan --review`", false)
    .option('--review', 'compare the recorded forecasts with how the runs really ended', false)
    .option('--json', 'machine-readable output', false)
    .action(
      async (opts: {
        tasksFile?: string;
        agents?: string;
        parallel?: string;
        history?: string;
        until?: string;
        director: string;
        samples?: string;
        seed: string;
        record: boolean;
        review: boolean;
        json: boolean;
      }) => {
        const config = loadConfig(deps.env ?? {});
        const now = (deps.now?.() ?? new Date()).getTime();
        const history =
          opts.history === undefined ? config.plan.historyRuns : positiveInt(opts.history, '--history');
        const samples =
          opts.samples === undefined ? config.plan.samples : positiveInt(opts.samples, '--samples');
        const numParallel =
          opts.parallel === undefined ? config.ollama.numParallel : positiveInt(opts.parallel, '--parallel');
        if (opts.director !== 'ollama' && opts.director !== 'anthropic')
          throw new PlanInputError(`--director ${opts.director}: expected ollama or anthropic`);
        const until = opts.until === undefined ? undefined : parseUntil(opts.until, new Date(now));
        const tasks = opts.tasksFile === undefined ? undefined : readTasks(opts.tasksFile);
        const keys = createKeys(config.redis.prefix);
        const redis = createRedisClient(config.redis.url, { maxRetriesPerRequest: 2 });
        try {
          // Issue 21 §2: finished runs archived out of Redis are history too.
          const { store, archive } = createArchivedRunStore(redis, keys, config.memoryDir);
          if (opts.review) {
            const rows = await reviewRuns(redis, keys, store);
            deps.stdout(opts.json ? `${JSON.stringify(rows)}\n` : renderReview(rows));
            return;
          }
          const queues = new Map<string, Queue>();
          const queueOf = (name: string): Queue => {
            let q = queues.get(name);
            if (!q) {
              q = new Queue(name, { connection: redis, prefix: keys.prefix });
              q.on('error', () => undefined);
              queues.set(name, q);
            }
            return q;
          };
          const { profile, running } = await readRuns(redis, store, keys, history, {
            nowMs: now,
            pickedUp: pickedUpFromJobs(queueOf),
            archive,
          }).finally(() => Promise.allSettled([...queues.values()].map((q) => q.close())));
          const titles = new Map<string, string>();
          const runs: QueuedRun[] = [];
          if (tasks) {
            for (const t of tasks) {
              titles.set(t.id, t.title);
              runs.push({ id: t.id });
            }
          } else {
            runs.push(...running);
            for (const q of await readQueued(redis, keys)) {
              if (runs.some((r) => r.id === q.id)) continue;
              titles.set(q.id, q.title);
              runs.push({ id: q.id });
            }
            if (runs.length === 0)
              throw new PlanInputError(
                'nothing to plan: no run waits in `runs` or is under way (give --tasks-file)',
              );
          }
          const agents = {
            ...(await liveAgents(redis, keys)),
            ...(opts.agents ? parseAgents(opts.agents) : {}),
          };
          const f = forecast({
            profile,
            runs,
            agents,
            numParallel,
            samples,
            seed: Number(opts.seed),
            loadStretch: config.plan.loadStretch,
            ...(opts.director === 'anthropic' ? { directorOnAnthropic: true } : {}),
            ...(until === undefined ? {} : { untilMs: until - now }),
          });
          if (opts.record && !tasks) {
            const madeAt = new Date(now).toISOString();
            const at = (ms: number) => new Date(now + ms).toISOString();
            const night = f.runs.map((r) => r.id);
            await recordForecasts(
              redis,
              keys,
              f.runs.map((r) => ({
                runId: r.id,
                forecast: {
                  madeAt,
                  p50At: at(r.p50Ms),
                  p90At: at(r.p90Ms),
                  night,
                  history: profile.runs.length,
                },
              })),
            );
          }
          if (opts.json) {
            deps.stdout(
              `${JSON.stringify({ now: new Date(now).toISOString(), agents, numParallel, history: profile.runs.length, forecast: f })}\n`,
            );
            return;
          }
          deps.stdout(
            renderPlan({
              forecast: f,
              now,
              titles,
              running: new Set(running.map((r) => r.id)),
              agents,
              numParallel,
              history: profile.runs.length,
              ...(until === undefined ? {} : { until }),
            }),
          );
        } finally {
          redis.disconnect();
        }
      },
    );
}

function readTasks(path: string): { id: string; title: string }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PlanInputError(
      `--tasks-file ${path}: cannot read it (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return parseTaskFile(text, path);
}
