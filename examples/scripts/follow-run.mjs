// Start a run and follow it to its end with @nightshift/client, the typed front door for programs.
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/scripts/follow-run.mjs "Fix the failing sum test" [workspace]
//
// Prints one line per change of the run (phase, status) and exits 0 when it finished, 1 otherwise.
// NIGHTSHIFT_PREFIX must match the deployment's (default "nightshift").
import { openControl } from '@nightshift/client';

const [task, workspace] = process.argv.slice(2);
if (!task) {
  process.stderr.write('usage: node follow-run.mjs "<task>" [workspace]\n');
  process.exit(2);
}
const control = openControl({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.NIGHTSHIFT_PREFIX ?? 'nightshift',
  actor: 'script',
});
try {
  const { runId, jobId } = await control.startRun({ task, ...(workspace ? { workspace } : {}) });
  console.log(`started ${runId}`);
  const changes = control.watchRun(runId, { jobId });
  let next = await changes.next();
  while (next.done !== true) {
    const { state } = next.value;
    console.log(`${runId}: phase ${state.phase}, ${state.status}`);
    next = await changes.next();
  }
  const status = next.value.run?.state.status ?? 'unknown';
  console.log(`${runId}: ${next.value.end} (${status})`);
  process.exitCode = status === 'finished' ? 0 : 1;
} finally {
  await control.close();
}
