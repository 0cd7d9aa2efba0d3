// `nightshift agents pause|resume <role>`: stop or restart one role's work queue everywhere
// (BullMQ global pause; the job in hand finishes), e.g. to hold the Builder while you look.

import { AGENT_QUEUE_ROLES, type AgentQueueResult } from '@nightshift/client';
import { Argument, type Command } from 'commander';
import { printJson, withControl } from '../control-deps.js';
import type { CliDeps } from '../deps.js';

export function registerAgents(program: Command, deps: CliDeps): void {
  const agents = program.command('agents').description("pause or resume an agent role's work queue");
  const report = (result: AgentQueueResult, json?: boolean) => {
    if (json) return printJson(deps, result);
    const state = result.paused ? 'paused' : 'running';
    deps.stdout(result.changed ? `${result.queue} ${state}\n` : `${result.queue} was already ${state}\n`);
  };
  const role = () => new Argument('<role>', 'the agent role').choices(AGENT_QUEUE_ROLES);
  agents
    .command('pause')
    .description('stop the role taking new jobs (the current one finishes)')
    .addArgument(role())
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      report(await withControl(deps, (c) => c.pauseAgent(name)), options.json);
    });
  agents
    .command('resume')
    .description('let the role take jobs again')
    .addArgument(role())
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      report(await withControl(deps, (c) => c.resumeAgent(name)), options.json);
    });
}
