// Scenario "disk full": MEMORY_DIR is a 64 KiB tmpfs filled to the last byte before the team
// starts (root can mount one; elsewhere a plain FILE stands where the directory should be, so
// every write under it fails too). The Scribe cannot write team-state.md or checkpoints: it must
// say so (log line / ALERT) and the team must keep working — the runs finish, nothing is lost.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRunsFold, diagnose, readWholeLog, streamIntegrity, waitForDrain } from '../lib/checks.mjs';
import { countRuns, scriptRun, startRuns, waitForRuns } from '../lib/models.mjs';
import { check, checkStayedUp, finish, newResult } from '../lib/result.mjs';
import { addServices, createWorld, waitForStack } from '../lib/stack.mjs';

/** What the Scribe (and others) say when a write fails: ENOSPC for tmpfs, ENOTDIR/EEXIST for the file. */
const WRITE_FAILED = /ENOSPC|no space left|ENOTDIR|EEXIST|not a directory|could not write|EROFS|EACCES/i;

/** A full filesystem at a fresh path: tmpfs if we may mount, else a file where the dir should be. */
function fullMemoryDir() {
  const base = mkdtempSync(join(tmpdir(), 'ns-chaos-disk-'));
  const dir = join(base, 'memory');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], {
      stdio: 'pipe',
      timeout: 10_000,
    });
    // Fill it: one filler file up to ENOSPC.
    const fd = openSync(join(dir, 'filler.bin'), 'w');
    const chunk = Buffer.alloc(4096, 0);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      if (error.code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
    return {
      dir,
      mode: 'tmpfs 64 KiB, filled',
      cleanup: () => {
        try {
          execFileSync('umount', ['-l', dir], { stdio: 'pipe', timeout: 10_000 });
        } finally {
          rmSync(base, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    // Not root (or no tmpfs): a regular file takes the directory's place.
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'this is a file, not a directory: every write under it fails\n');
    return {
      dir,
      mode: `a file instead of the directory (tmpfs mount failed: ${String(error.message).split('\n')[0]})`,
      cleanup: () => rmSync(base, { recursive: true, force: true }),
    };
  }
}

export async function diskFullScenario({ smoke, log }) {
  const started = Date.now();
  // A healthy run takes ~20 s here; the Scribe's checkpoint step gets 30 s before the Director
  // counts it overdue and asks again, so the window shows both the failure and the retry.
  const size = smoke ? { runs: 1, timeoutMs: 100_000 } : { runs: 3, timeoutMs: 5 * 60_000 };
  const result = newResult('disk-full', `MEMORY_DIR full; ${size.runs} run(s) must finish`);
  const memory = fullMemoryDir();
  result.details.memoryDir = memory.mode;
  log(`  memory dir: ${memory.mode}`);
  let world;
  try {
    world = await createWorld({
      memoryDir: memory.dir,
      stackOptions: { watch: [WRITE_FAILED] },
      env: { ROLE_TIMEOUT_SCRIBE: '30' },
    });
    scriptRun(world);
    addServices(world, { gateways: 1, agentConcurrency: 1 });
    await waitForStack(world);
    const runIds = await startRuns(world, size.runs, 'disk-full');
    const runs = await waitForRuns(world, runIds, size.timeoutMs).catch((error) => {
      result.notes.push(error.message);
      return [];
    });
    await waitForDrain(world, result, 60_000);

    const finished = countRuns(result, world, runIds, runs);
    check(
      result,
      'the team kept working: every run finished',
      finished === runIds.length,
      `${finished}/${runIds.length}: ${runs.map((r) => r.status).join(', ')}`,
    );
    check(result, 'no step completed twice', result.duplicated === 0);
    check(result, `limiter max ≤ ${result.limit}`, result.limiterMax <= result.limit);

    // The Scribe reports it: a log line naming the failed write, and/or an ALERT on the bus.
    const scribeLines = world.stack.everyProcess
      .filter((p) => p.slot === 'scribe')
      .reduce((n, p) => n + p.count(WRITE_FAILED), 0);
    const alerts = (await readWholeLog(world.bus))
      .map((e) => e.message)
      .filter((m) => m?.type === 'ALERT' && m.from === 'scribe');
    const others = {};
    for (const p of world.stack.everyProcess)
      if (p.slot !== 'scribe' && p.count(WRITE_FAILED) > 0) others[p.slot] = p.count(WRITE_FAILED);
    result.details.reports = {
      scribeLogLines: scribeLines,
      scribeAlerts: alerts.length,
      otherServicesLogging: others,
    };
    check(
      result,
      'the Scribe reported the failed writes',
      scribeLines + alerts.length > 0,
      `${scribeLines} log line(s), ${alerts.length} ALERT(s)`,
    );
    if (alerts.length === 0)
      result.notes.push('the Scribe logs the failed write but raises no ALERT on the bus');
    checkStayedUp(result, world);
    const folds = await checkRunsFold(result, world.bus);
    const stepFailures = folds.flatMap((r) =>
      (r.events ?? []).filter((e) => e.type === 'step.failed').map((e) => `${e.step}: ${e.reason}`),
    );
    result.details.stepFailures = stepFailures;
    if (stepFailures.length > 0) result.notes.push(`steps failed: ${stepFailures.slice(0, 3).join('; ')}`);
    const integrity = await streamIntegrity(world.bus);
    check(result, 'every stream entry parses', integrity.bad.length === 0);
    result.summary = `${memory.mode}; Scribe: ${scribeLines} log line(s), ${alerts.length} ALERT(s); ${stepFailures.length} step failure(s); runs ${finished}/${runIds.length}`;
    if (!result.checks.every((c) => c.ok)) {
      result.details.diagnosis = await diagnose(world);
      result.details.tails = world.stack.tails(15);
    }
  } finally {
    await world?.cleanup();
    memory.cleanup();
  }
  return finish(result, started);
}
