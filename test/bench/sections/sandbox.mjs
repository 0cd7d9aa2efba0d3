// Section 7: what the command sandbox costs per command. The same commands run through the real
// runner with the sandbox on and off (TOOLS_SANDBOX=off), interleaved so both see the same load;
// the overhead is the difference of the two latency distributions, measured in one run.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConfined } from '@nightshift/tools';
import { ROOT } from '../lib/procs.mjs';
import { latencySummary, round } from '../lib/stats.mjs';

// `true`: the bare cost of starting the sandbox. `node -e 0`: what every test command starts with.
// `npm test` of the sample workspace: a whole allowlisted command as the Inspector runs it.
const COMMANDS = [
  { name: 'true', file: 'true', args: [], share: 1 },
  { name: 'node -e 0', file: 'node', args: ['-e', '0'], share: 1 },
  { name: 'npm test (sample workspace)', file: 'npm', args: ['test'], share: 0.2 },
];

async function timeOne(command, workspace, mode) {
  const t0 = performance.now();
  const result = await runConfined(command.file, command.args, {
    workspace,
    timeoutMs: 60_000,
    outputCapBytes: 65_536,
    host: { path: process.env.PATH, lang: process.env.LANG },
    sandbox: { mode },
  });
  const ms = performance.now() - t0;
  // The sample's test fails on purpose (the demo's task is to fix it); anything else is an error.
  if (result.timedOut || (command.file !== 'npm' && result.exitCode !== 0))
    throw new Error(`${command.name} (sandbox ${mode}) failed: ${result.stderr.slice(0, 300)}`);
  if (result.sandboxed !== (mode === 'on')) throw new Error(`${command.name}: sandboxed=${result.sandboxed}`);
  return ms;
}

export async function benchSandbox(ctx) {
  const runs = ctx.smoke ? 10 : 100;
  const workspace = mkdtempSync(join(tmpdir(), 'ns-bench-sandbox-'));
  cpSync(join(ROOT, 'examples', 'sample-workspace'), workspace, { recursive: true });
  try {
    const commands = [];
    for (const command of COMMANDS) {
      const n = Math.max(5, Math.round(runs * command.share));
      const on = [];
      const off = [];
      await timeOne(command, workspace, 'on'); // warm the page cache for both sides
      await timeOne(command, workspace, 'off');
      for (let i = 0; i < n; i++) {
        on.push(await timeOne(command, workspace, 'on'));
        off.push(await timeOne(command, workspace, 'off'));
      }
      const sandboxed = latencySummary(on);
      const unconfined = latencySummary(off);
      commands.push({
        name: command.name,
        runs: n,
        sandboxed,
        unconfined,
        overheadP50Ms: round(sandboxed.p50Ms - unconfined.p50Ms, 1),
        overheadP99Ms: round(sandboxed.p99Ms - unconfined.p99Ms, 1),
      });
      ctx.log(`sandbox: ${command.name}: +${commands.at(-1).overheadP50Ms} ms p50`);
    }
    return { mechanism: 'bubblewrap', commands };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}
