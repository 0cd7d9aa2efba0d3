// `nightshift up [--sim] [--scale builder=3]`: the services of docker-compose.yml as local child
// processes, until Ctrl-C (then a graceful stop in the right order).
import { loadConfig } from '@nightshift/config';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { parseScale } from '../up/services.js';
import { SIM_BANNER, startStack } from '../up/stack.js';

export function registerUp(program: Command, deps: CliDeps): void {
  program
    .command('up')
    .description('run every service as a local process (no Docker); Ctrl-C stops them gracefully')
    .option('--sim', 'use the built-in SIMULATED model instead of Ollama/Anthropic', false)
    .option('--scale <role=n...>', 'agents per role, e.g. --scale builder=3', [])
    .option('--data <dir>', 'data directory (Redis AOF when started here)', '.nightshift')
    .option('--no-colour', 'plain, uncoloured log prefixes')
    .action(async (opts: { sim: boolean; scale: string[]; data: string; colour: boolean }) => {
      const env = deps.env ?? {};
      const config = loadConfig(env);
      const scale = parseScale(opts.scale);
      if (opts.sim) deps.stdout(`${SIM_BANNER}\n`);
      const stack = await startStack({
        config,
        env,
        sim: opts.sim,
        scale,
        dataDir: opts.data,
        startedIn: process.cwd(),
        colour: opts.colour,
        write: (line) => deps.stdout(`${line}\n`),
      });
      deps.stdout(
        `nightshift up: ${stack.supervisor.names.length} services started; dashboard (if built) at http://${config.dashboard.host}:${config.dashboard.port}/ — Ctrl-C to stop\n`,
      );
      await new Promise<void>((resolve) => {
        if (deps.signal.aborted) return resolve();
        deps.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      deps.stdout('stopping: director → agents → scribe/sentinel/dashboard → llm-gateway\n');
      await stack.stop();
    });
}
