#!/usr/bin/env node
// `npm run soak` / `node test/soak/run.mjs [--smoke] [--runs=N] [--parallel=N] [--hours=H] …`
// (issue 21): many runs back to back on the simulated model under scheduled faults (kill -9 of a
// random service, Redis restart from its AOF, Ollama outage), sampled every few seconds. Writes
// JSON, a markdown table and SVG plots; exits 1 unless every end check and growth bound held.
// Bounded by --runs and --hours; every child (services, Redis, fakes) dies with it, also on
// Ctrl-C or a crash (the chaos harness's exit hooks).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { machine } from '../chaos/lib/machine.mjs';
import { liveChildren, ROOT } from '../chaos/lib/procs.mjs';
import { check } from './lib/end-checks.mjs';
import { slope } from './lib/growth.mjs';
import { parseArgs } from './lib/options.mjs';
import { growthRows, recoveryByKind, renderTable, writePlots } from './lib/report.mjs';
import { active, soak } from './lib/soak.mjs';

/** Checks of the harness itself: the planned faults happened and the runs went on after each. */
function faultChecks(result, opts) {
  const checks = [];
  if (opts.smoke) {
    const kinds = new Set(result.faults.map((f) => f.kind));
    check(
      checks,
      'one fault of each kind injected',
      opts.faults.every((k) => kinds.has(k)),
      result.faults.map((f) => `${f.kind}${f.target === f.kind ? '' : ` ${f.target}`}`).join(', ') || 'none',
    );
  }
  const stuck = result.faults.filter((f) => !f.recovered);
  check(
    checks,
    'the runs in flight went on after every fault',
    stuck.length === 0,
    stuck.map((f) => `${f.kind}: ${f.notRecovered.join(', ')}`).join('; ') ||
      `${result.faults.length} faults`,
  );
  check(
    checks,
    'no service died but those the harness killed',
    result.harness.unexpectedExits.length === 0,
    result.harness.unexpectedExits.join('; ') ||
      `${result.harness.kills} killed, ${result.harness.restarts} restarted`,
  );
  return checks;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`${opts.help}\n`);
    return;
  }
  const startedAt = new Date();
  const stamp = `${startedAt.toISOString().replace(/[:.]/g, '-')}${opts.smoke ? '-smoke' : ''}`;
  const out = opts.out ?? join(ROOT, 'bench-results', `soak-${stamp}.json`);
  const plots = opts.plots ?? join(dirname(out), `soak-${stamp}-plots`);
  const log = (line) => process.stdout.write(`${line}\n`);
  log(
    `Nightshift soak (${opts.smoke ? 'smoke' : 'full'}): ${opts.runs} runs, ${opts.parallel} in flight, ≤ ${opts.hours} h, faults ${opts.faults.join(',')} every ${opts.faultEverySec} s (≤ ${opts.maxFaults})`,
  );
  const at = machine();
  const result = await soak(opts, log);
  const ended = result.runs.filter((r) => r.makespanMs !== undefined);
  const report = {
    date: startedAt.toISOString(),
    mode: opts.smoke ? 'smoke' : 'full',
    options: opts,
    machine: at,
    ...result,
    recovery: recoveryByKind(result.faults),
    drift: { msPerRun: slope(ended.map((r) => ({ x: r.index, y: r.makespanMs }))) },
    checks: [...result.end.checks, ...result.growth.checks, ...faultChecks(result, opts)],
  };
  report.growthTable = growthRows(report);
  report.ok = report.checks.every((c) => c.ok);
  mkdirSync(plots, { recursive: true });
  report.plots = await writePlots(report, plots);
  const table = renderTable(report);
  report.table = table;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(out.replace(/\.json$/, '.md'), `${table}\n`);
  log(`\n${table}\n\nJSON: ${out}\nplots: ${plots}`);
  const left = liveChildren();
  if (left > 0) log(`warning: ${left} child process(es) still alive at the end; killing them`);
  process.exitCode = report.ok ? 0 : 1;
}

// A signal ends the soak like a failure: the world is torn down (bounded), then the 'exit' hooks
// SIGKILL whatever child is still alive.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`soak: ${signal}, stopping\n`);
    const timeout = new Promise((r) => setTimeout(r, 20_000).unref());
    void Promise.race([active.world?.cleanup(), timeout]).finally(() => process.exit(130));
  });
}

main()
  .catch((error) => {
    process.stderr.write(
      `soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => {
    // Stray handles (a fake server that could not close) must not keep the soak running.
    setTimeout(() => process.exit(), 2000).unref();
  });
