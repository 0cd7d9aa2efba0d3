// `nightshift replay <runId>`: re-runs the workflow over the run's recorded events and model
// replies (no model calls) and checks every transition; `--until` stops and prints the state
// there; a changed build (or `--max-iterations`) shows the first event where it diverges.
import { loadConfig } from '@nightshift/config';
import { parseRunEvent, type RunEvent, replay } from '@nightshift/core';
import { createArchivedRunStore, createKeys, createRedisClient } from '@nightshift/redis';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';

export function registerReplay(program: Command, deps: CliDeps): void {
  program
    .command('replay')
    .description('replay a run from its recorded events (no model calls) and report any divergence')
    .argument('<runId>', 'the run to replay')
    .option(
      '--until <event>',
      'stop at the first event of this type (e.g. phase.started) or at this version number',
    )
    .option('--max-iterations <n>', 'replay with a different iteration cap (to see where a change diverges)')
    .option('--verbose', 'print every step', false)
    .option('--json', 'machine-readable output', false)
    .action(
      async (
        runId: string,
        opts: { until?: string; maxIterations?: string; verbose: boolean; json: boolean },
      ) => {
        const config = loadConfig(deps.env ?? {});
        const redis = createRedisClient(config.redis.url, { maxRetriesPerRequest: 2 });
        try {
          const keys = createKeys(config.redis.prefix);
          // Issue 21 §2: a run moved out of Redis replays from its archive.
          const { store, archive } = createArchivedRunStore(redis, keys, config.memoryDir);
          const stored = await store.read(runId);
          if (stored.length === 0)
            throw new Error(
              `no run ${runId} (nothing recorded under prefix ${config.redis.prefix} nor in the archive ${archive.dir})`,
            );
          const events: RunEvent[] = stored.map((s) => parseRunEvent(s.event));
          const max =
            opts.maxIterations === undefined ? config.workflow.maxIterations : Number(opts.maxIterations);
          if (!Number.isInteger(max) || max < 1)
            throw new Error('--max-iterations: expected a positive integer');
          const until = opts.until;
          const result = replay(
            events,
            { maxIterations: max, maxStepAttempts: config.detection.sameErrorRepeats },
            until === undefined
              ? undefined
              : (e, version) => (/^\d+$/.test(until) ? version >= Number(until) : e.type === until),
          );
          if (opts.json) {
            deps.stdout(
              `${JSON.stringify({ runId, replayed: result.steps.length, of: events.length, divergence: result.divergence ?? null, state: result.final })}\n`,
            );
          } else {
            if (opts.verbose) {
              for (const s of result.steps) {
                deps.stdout(
                  `${String(s.version).padStart(4)} ${s.ok ? '✓' : '✗'} ${s.kind.padEnd(6)} ${s.event.type.padEnd(18)} commanded: ${s.commanded.join(', ') || '-'}\n`,
                );
              }
            }
            const f = result.final;
            deps.stdout(`replayed ${result.steps.length} of ${events.length} events of ${runId}\n`);
            deps.stdout(
              `state: ${f.status}, phase ${f.phase ?? '-'}, iteration ${f.iteration}, ${f.completed.length} steps done, ${f.findings.all.length} findings, ${f.budget.spent.tokens} tokens\n`,
            );
            if (result.divergence) {
              const d = result.divergence;
              deps.stdout(`DIVERGES at event ${d.version} (${d.event.type} at ${d.event.at}): ${d.reason}\n`);
            } else if (result.steps.length === events.length) {
              deps.stdout('identical: every recorded transition is what this build commands\n');
            }
          }
          if (result.divergence)
            throw Object.assign(new Error('the replay diverged from the recording'), { quiet: true });
        } finally {
          redis.disconnect();
        }
      },
    );
}
