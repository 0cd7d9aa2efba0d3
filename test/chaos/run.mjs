#!/usr/bin/env node
// `npm run chaos` / `node test/chaos/run.mjs [--smoke] [--only=a,b] [--out=file.json]`: the chaos
// scenarios of issue 13 against the real built services, each bounded in time and asserting its
// counts (lost = 0, duplicated = 0, limiter max = 2). Prints a markdown table, writes JSON to
// bench-results/chaos-<date>.json, and exits 1 if any scenario failed.
// UNFINISHED: --smoke takes ~5 min on the loaded 2-core dev box, not the < 90 s first aimed for;
// most of it is six stacks starting and the disk-full run waiting out the Scribe's checkpoint step.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { machine } from './lib/machine.mjs';
import { liveChildren, ROOT, SENTINEL_BUILT } from './lib/procs.mjs';
import { renderTable } from './lib/report.mjs';
import { newResult } from './lib/result.mjs';
import { SCENARIOS } from './scenarios/index.mjs';

function parseArgs(argv) {
  const args = { smoke: false, only: undefined, out: undefined };
  for (const arg of argv) {
    if (arg === '--smoke') args.smoke = true;
    else if (arg.startsWith('--only=')) args.only = arg.slice(7).split(',').filter(Boolean);
    else if (arg.startsWith('--out=')) args.out = arg.slice(6);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        `usage: node test/chaos/run.mjs [--smoke] [--only=${SCENARIOS.map((s) => s.name).join(',')}] [--out=file.json]\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return args;
}

/** Runs one scenario under a hard time limit; a throw or a timeout is a failed result, not a crash. */
async function runOne(scenario, smoke) {
  const limitMs = smoke ? scenario.smokeLimitMs : scenario.fullLimitMs;
  const log = (line) => process.stdout.write(`${line}\n`);
  log(`▶ ${scenario.name}`);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`scenario ${scenario.name} exceeded its ${limitMs / 1000} s limit`)),
      limitMs,
    );
  });
  const started = Date.now();
  const running = scenario.run({ smoke, log });
  try {
    const result = await Promise.race([running, timeout]);
    log(`  ${result.ok ? 'PASS' : 'FAIL'} in ${(result.durationMs / 1000).toFixed(1)} s`);
    for (const c of result.checks) if (!c.ok) log(`    ✗ ${c.name}: ${c.detail ?? ''}`);
    if (!result.ok) {
      // Enough to diagnose from a CI log alone (the JSON may be gone with its temp dir).
      for (const note of result.notes) log(`    note: ${note}`);
      for (const run of result.details?.diagnosis?.runs ?? [])
        if (run.status !== 'finished')
          log(`    run ${run.runId} ${run.status}: … ${(run.last ?? []).join(' → ')}`);
      for (const alert of result.details?.diagnosis?.alerts ?? [])
        log(`    alert: ${JSON.stringify(alert).slice(0, 300)}`);
    }
    return result;
  } catch (error) {
    const failed = newResult(scenario.name, scenario.what);
    failed.durationMs = Date.now() - started;
    failed.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failed.checks.push({ name: 'scenario ran to the end', ok: false, detail: failed.error.split('\n')[0] });
    log(`  FAIL: ${failed.error}`);
    // Its own `finally` tears its world down; wait for that (bounded) before the next scenario.
    await Promise.race([running.catch(() => undefined), new Promise((r) => setTimeout(r, 60_000).unref())]);
    return failed;
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const selected = SCENARIOS.filter((s) => args.only === undefined || args.only.includes(s.name));
  if (selected.length === 0) throw new Error(`no scenario matches --only=${args.only?.join(',')}`);
  const startedAt = new Date();
  process.stdout.write(
    `Nightshift chaos (${args.smoke ? 'smoke' : 'full'}): ${selected.map((s) => s.name).join(', ')}; sentinel ${SENTINEL_BUILT ? 'built' : 'NOT built'}\n`,
  );
  const results = [];
  for (const scenario of selected) results.push(await runOne(scenario, args.smoke));

  const report = {
    date: startedAt.toISOString(),
    mode: args.smoke ? 'smoke' : 'full',
    durationMs: Date.now() - startedAt.getTime(),
    machine: machine(),
    sentinelBuilt: SENTINEL_BUILT,
    ok: results.every((r) => r.ok),
    scenarios: results,
  };
  const out =
    args.out ??
    join(
      ROOT,
      'bench-results',
      `chaos-${startedAt.toISOString().replace(/[:.]/g, '-')}${args.smoke ? '-smoke' : ''}.json`,
    );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${renderTable(report)}\n\nJSON: ${out}\n`);
  const left = liveChildren();
  if (left > 0)
    process.stdout.write(`warning: ${left} child process(es) still alive at the end; killing them\n`);
  process.exitCode = report.ok ? 0 : 1;
}

// A signal ends the run like a failure: the 'exit' hooks kill every child and Redis.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`chaos: ${signal}, stopping\n`);
    process.exit(130);
  });
}

main()
  .catch((error) => {
    process.stderr.write(
      `chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => {
    // Stray handles (a fake server a failed scenario could not close) must not keep us running.
    setTimeout(() => process.exit(), 2000).unref();
  });
