// Stands in for an agent process in the escape suite: runs `npm test` in the workspace given as
// argv[2] through the real run_command path, with a secret in its own environment, and says
// "running" on stdout once the command has started. The suite then SIGTERMs or SIGKILLs it.
import { runCommand } from '@nightshift/tools';

const workspaceRoot = process.argv[2];
if (!workspaceRoot) throw new Error('usage: sandbox-agent.mjs <workspace>');
process.stdout.write('running\n');
await runCommand(['npm', 'test'], {
  workspaceRoot,
  allowlist: ['npm test'],
  timeoutMs: 120_000,
  outputCapBytes: 65_536,
  host: { path: process.env.PATH },
});
process.stdout.write('command returned\n');
