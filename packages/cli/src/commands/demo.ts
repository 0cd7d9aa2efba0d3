// `nightshift demo` (the README's first command, via `npm run demo`): the whole stack on the
// SIMULATED model, a sample task on a copy of examples/sample-workspace, progress a person can
// watch, and a one-screen summary of where everything is. Exit 0 when the run finished and the
// workspace's own tests pass.
import { spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '@nightshift/config';
import { fold, parseRunEvent, type RunEvent } from '@nightshift/core';
import { PHASE_NAMES } from '@nightshift/protocol';
import { createKeys, createRedisClient, createRunStore, enqueueRun } from '@nightshift/redis';
import { describeRunBranch, runCommand } from '@nightshift/tools';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { SIM_BANNER, startStack } from '../up/stack.js';
import { writeReport } from './report.js';

const TASK =
  'The sum() function in src/sum.js gives wrong totals and `npm test` fails. Find the bug, fix it without changing the API, and make the tests pass.';

export function registerDemo(program: Command, deps: CliDeps): void {
  program
    .command('demo')
    .description('a full simulated overnight run on a sample workspace (no LLM needed)')
    .option('--data <dir>', 'where the demo keeps its files', '.nightshift')
    .option('--timeout <seconds>', 'give up after this long', '600')
    .action(async (opts: { data: string; timeout: string }) => {
      const data = resolve(opts.data);
      const env: NodeJS.ProcessEnv = {
        MEMORY_DIR: join(data, 'memory'),
        WORKSPACE_DIR: join(data, 'workspaces'),
        ...(deps.env ?? {}),
      };
      const config = loadConfig(env);
      const out = (line: string) => deps.stdout(`${line}\n`);
      out(SIM_BANNER);
      mkdirSync(join(data, 'demo'), { recursive: true });
      const logFile = join(data, 'demo', 'services.log');
      const log = createWriteStream(logFile, { flags: 'w' });
      const stack = await startStack({
        config,
        env,
        sim: true,
        dataDir: data,
        write: (line) => log.write(`${line}\n`),
      });
      let code = 1;
      try {
        const source = join(stack.root, 'examples', 'sample-workspace');
        const workspace = join(config.workspaceDir, `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
        cpSync(source, workspace, { recursive: true });
        makeRepository(workspace, env.PATH);
        out(`services: ${stack.supervisor.names.join(', ')} (logs: ${logFile})`);
        out(
          `workspace: ${workspace} (a git repository with a copy of examples/sample-workspace; its test fails; the team works on its own branch)`,
        );
        const { runId } = await enqueueRun(
          stack.redis.url,
          { task: TASK, title: 'Demo: fix sum()', workspace },
          {
            prefix: config.redis.prefix,
          },
        );
        out(`run ${runId} enqueued; following it (Ctrl-C to stop)\n`);
        const events = await follow(
          stack.redis.url,
          config.redis.prefix,
          runId,
          Number(opts.timeout) * 1000,
          deps,
          out,
        );
        const state = fold(events);
        // The team worked on the run's own checkout (issue 18); the workspace itself is untouched.
        const worked = state.checkout?.cwd ?? workspace;
        // The same sandboxed runner as the agents' run_command: the sample's tests never run unconfined.
        const test = await runCommand(['npm', 'test'], {
          workspaceRoot: worked,
          allowlist: ['npm test'],
          timeoutMs: config.tools.commandTimeoutMs,
          outputCapBytes: config.tools.outputCapBytes,
          host: { path: env.PATH, lang: env.LANG },
          sandbox: { mode: config.tools.sandbox },
        }).catch((error: unknown) => {
          out(`npm test could not run: ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        });
        const passed = test?.exitCode === 0;
        const runDir = join(config.memoryDir, runId);
        const report = await writeReport(
          { ...config, redis: { ...config.redis, url: stack.redis.url } },
          runId,
        ).catch((error: unknown) => ({ html: `(report failed: ${(error as Error).message})`, markdown: '' }));
        out('');
        out('──────────────────────────── morning summary ────────────────────────────');
        out(`run        ${runId}: ${state.status}${state.outcome ? ` (${state.outcome})` : ''}`);
        out(`phases     ${state.phases.map((p) => `P${p.phase}`).join(' → ')}`);
        out(
          `decisions  ${state.decisions.map((d) => `${d.decision} (${d.by}${d.fallback ? ', fallback model' : ''})`).join('; ') || 'none'}`,
        );
        out(
          `findings   ${state.findings.all.length} (${state.findings.all.filter((f) => f.severity === 'critical').length} critical)`,
        );
        out(`tokens     ${state.budget.spent.tokens} (simulated)`);
        out(
          `npm test   ${passed ? 'PASSES' : 'FAILS'} in ${worked}${test?.sandboxed ? ' (in the sandbox)' : ' (UNCONFINED: TOOLS_SANDBOX=off)'}`,
        );
        const branch = state.checkout
          ? await describeRunBranch(state.checkout, { host: { path: env.PATH } }).catch(() => undefined)
          : undefined;
        if (branch) {
          out(
            `branch     ${branch.branch} in ${branch.repository} (from ${branch.baseRef} ${branch.base.slice(0, 12)})`,
          );
          for (const c of branch.commits) out(`  commit   ${c.sha.slice(0, 12)} ${c.subject}`);
          out(`diff       git diff --stat ${branch.base.slice(0, 12)}...${branch.branch}`);
          for (const line of branch.diffStat.trimEnd().split('\n')) out(`  ${line}`);
          for (const line of branch.diff.trimEnd().split('\n').slice(0, 40)) out(`  │ ${line}`);
          out(
            `apply      nightshift apply ${runId}   (or: git -C ${branch.repository} merge ${branch.branch})`,
          );
        } else out('branch     (none recorded)');
        out(
          `team state ${join(runDir, 'team-state.md')}${existsSync(join(runDir, 'team-state.md')) ? '' : ' (not written)'}`,
        );
        out(`checkpoints ${join(runDir, 'checkpoints')}`);
        out(`report     ${report.html}  (nightshift report ${runId} --png for an image)`);
        out(`logs       ${logFile}`);
        out(
          `queues     Bull Board at http://${config.dashboard.host}:${config.dashboard.port}/queues while \`nightshift up --sim\` runs`,
        );
        out('─────────────────────────────────────────────────────────────────────────');
        code = state.status === 'finished' && passed ? 0 : 1;
      } finally {
        out('stopping the services…');
        await stack.stop();
        log.end();
      }
      if (code !== 0)
        throw new Error('the demo run did not finish with passing tests (see the summary above)');
    });
}

/** The demo's workspace as a user's repository: one commit, so the run branches from it. */
function makeRepository(dir: string, path: string | undefined): void {
  const env = {
    PATH: path ?? '/usr/local/bin:/usr/bin:/bin',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Demo User',
    GIT_AUTHOR_EMAIL: 'demo@localhost',
    GIT_COMMITTER_NAME: 'Demo User',
    GIT_COMMITTER_EMAIL: 'demo@localhost',
  };
  for (const args of [
    ['init', '--quiet', '--initial-branch=main'],
    ['add', '--all'],
    ['commit', '--quiet', '-m', 'the sample workspace'],
  ]) {
    const result = spawnSync('git', args, { cwd: dir, env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`git ${args[0]} failed in ${dir}: ${result.stderr}`);
  }
}

async function follow(
  url: string,
  prefix: string,
  runId: string,
  timeoutMs: number,
  deps: CliDeps,
  out: (line: string) => void,
): Promise<RunEvent[]> {
  const redis = createRedisClient(url, { maxRetriesPerRequest: 3 });
  const store = createRunStore(redis, createKeys(prefix));
  const started = Date.now();
  let seen = 0;
  try {
    for (;;) {
      const events = (await store.read(runId)).map((e) => parseRunEvent(e.event));
      for (const e of events.slice(seen)) {
        const line = describe(e, started);
        if (line) out(line);
      }
      seen = events.length;
      const status = fold(events).status;
      if (['finished', 'aborted', 'failed', 'waiting-human'].includes(status)) return events;
      if (deps.signal.aborted) throw new Error('stopped by the user');
      if (Date.now() - started > timeoutMs)
        throw new Error(`the demo run did not end within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    redis.disconnect();
  }
}

function describe(e: RunEvent, started: number): string | undefined {
  const t = `[${((Date.parse(e.at) - started) / 1000).toFixed(1).padStart(5)} s]`;
  switch (e.type) {
    case 'run.created':
      return `${t} run created: ${e.title ?? e.task}`;
    case 'phase.started':
      return `${t} ── Phase ${e.phase}: ${PHASE_NAMES[e.phase]} (iteration ${e.iteration})`;
    case 'step.requested':
      return `${t}    → ${e.role}: ${e.step}`;
    case 'step.completed':
      return `${t}    ✓ ${e.role}: ${e.step}`;
    case 'step.failed':
      return `${t}    ✗ ${e.role}: ${e.step} (${e.reason.slice(0, 80)})`;
    case 'review.finding':
      return `${t}    ! finding [${e.severity}] ${e.file ?? ''} ${e.description}`;
    case 'decision.made':
      return `${t}    ⇒ Director decides ${e.decision.toUpperCase()}: ${e.rationale.slice(0, 100)}`;
    case 'run.waiting-human':
      return `${t} ⏸ waiting for a human: ${e.reason}`;
    case 'run.finished':
      return `${t} ■ run finished: ${e.outcome}`;
    default:
      return undefined;
  }
}
