#!/usr/bin/env node
// `npm run bench` / `node test/bench/run.mjs [--smoke] [--only=a,b] [--out=file] [--redis-url=URL]`:
// every figure and its baseline measured in one run; prints a markdown table, writes JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startRedis } from '@nightshift/testkit';
import { machine as sharedMachine } from '../chaos/lib/machine.mjs';
import { killAllNow, liveCount, profileChildrenInto, ROOT, stopProcs } from './lib/procs.mjs';
import { deletePrefix, openRedis } from './lib/redis.mjs';
import { renderTable } from './lib/report.mjs';
import { withTimeout } from './sections/bus.mjs';
import { SECTIONS } from './sections/index.mjs';

const FULL = {
  messages: 10_000,
  requests: 10_000,
  serialRequests: 1_000,
  limiterCalls: 10_000,
  limiterLatencyMs: 20,
  runOllamaMs: 250,
  runAnthropicMs: 250,
  peerCalls: 200,
  peerLatencyMs: 50,
};
const SMOKE = {
  messages: 500,
  requests: 500,
  serialRequests: 50,
  limiterCalls: 300,
  limiterLatencyMs: 20,
  runOllamaMs: 40,
  runAnthropicMs: 40,
  peerCalls: 40,
  peerLatencyMs: 20,
};
/** Longest any one section may take before it is abandoned (its processes are killed). */
const SECTION_TIMEOUT_MS = { full: 15 * 60_000, smoke: 90_000 };

function parseArgs(argv) {
  const args = {
    smoke: false,
    only: undefined,
    out: undefined,
    redisUrl: undefined,
    limiterGateways: 3,
    cpuProf: undefined,
  };
  for (const arg of argv) {
    if (arg === '--smoke') args.smoke = true;
    else if (arg.startsWith('--only=')) args.only = arg.slice(7).split(',').filter(Boolean);
    else if (arg.startsWith('--out=')) args.out = arg.slice(6);
    else if (arg.startsWith('--redis-url=')) args.redisUrl = arg.slice(12);
    else if (arg.startsWith('--limiter-gateways=')) args.limiterGateways = Number(arg.slice(19));
    else if (arg.startsWith('--cpu-prof=')) args.cpuProf = arg.slice(11);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: node test/bench/run.mjs [--smoke] [--only=bus,dispatch,limiter,fullRun,memory,peers,sandbox] [--out=file.json] [--redis-url=URL] [--limiter-gateways=1..3] [--cpu-prof=dir]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(args.limiterGateways) || args.limiterGateways < 1)
    throw new Error('--limiter-gateways must be a positive integer');
  return args;
}

function loadavg() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch (error) {
    return `unavailable (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The shared machine description, with the load as its three averages. */
function machine() {
  return { ...sharedMachine(), loadavg: loadavg() };
}

/**
 * A private redis-server unless told otherwise: other work on a shared Redis would skew the
 * numbers. Without a redis-server binary, REDIS_URL is used (the JSON says which).
 */
async function openBenchRedis(url, log) {
  if (url) return startRedis({ url });
  try {
    return await startRedis({ spawn: true, docker: false });
  } catch (error) {
    if (!process.env.REDIS_URL) throw error;
    log(
      `no private redis-server (${error instanceof Error ? error.message : String(error)}); using REDIS_URL`,
    );
    return startRedis({ url: process.env.REDIS_URL });
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mode = args.smoke ? 'smoke' : 'full';
  const started = Date.now();
  const log = (line) =>
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
  const chosen = SECTIONS.filter((s) => !args.only || args.only.includes(s.name));
  if (chosen.length === 0) throw new Error(`--only matched no section (have ${SECTIONS.map((s) => s.name)})`);
  if (args.cpuProf) {
    mkdirSync(args.cpuProf, { recursive: true });
    profileChildrenInto(args.cpuProf);
    log(
      `CPU profiles of every child into ${args.cpuProf} (summary: node test/bench/cpu-profile.mjs ${args.cpuProf})`,
    );
  }

  const redis = await openBenchRedis(args.redisUrl, log);
  const result = {
    meta: {
      date: new Date().toISOString(),
      mode,
      machine: machine(),
      redis: redis.mode,
      loadAfter: {},
      sigkilled: [],
    },
  };
  const ctx = {
    redisUrl: redis.url,
    sizes: args.smoke ? SMOKE : FULL,
    smoke: args.smoke,
    prefixes: [],
    log,
    shared: {},
    results: result,
    options: args,
    /** Stops processes; who needed SIGKILL after the grace time is recorded in meta.sigkilled. */
    async stop(procs) {
      const killed = await stopProcs(procs, args.smoke ? 3000 : 10_000);
      result.meta.sigkilled.push(...killed);
      return killed;
    },
  };
  let failed = 0;
  try {
    for (const section of chosen) {
      log(`${section.name}: start`);
      const t0 = Date.now();
      try {
        result[section.name] = await withTimeout(section.run(ctx), SECTION_TIMEOUT_MS[mode], section.name);
      } catch (error) {
        failed++;
        result[section.name] = { error: error instanceof Error ? error.message : String(error) };
        log(`${section.name}: FAILED: ${error instanceof Error ? error.stack : String(error)}`);
        killAllNow(); // a timed-out section leaves its processes behind
      }
      // The machine's load while the section ran: numbers from a busy machine are read with it.
      result.meta.loadAfter[section.name] = loadavg();
      log(`${section.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    if (redis.mode === 'env') {
      const client = openRedis(redis.url, 'bench-cleanup');
      for (const prefix of ctx.prefixes) await deletePrefix(client, prefix).catch(() => undefined);
      client.disconnect();
    }
    await redis.stop();
  }
  result.meta.durationSec = Math.round((Date.now() - started) / 100) / 10;

  const day = result.meta.date.slice(0, 10);
  const out = args.out ?? join(ROOT, 'bench-results', `bench-${mode === 'smoke' ? 'smoke-' : ''}${day}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${renderTable(result)}\n`);
  log(`JSON written to ${out}`);
  if (liveCount() > 0) log(`warning: ${liveCount()} child process(es) still running; killing them`);
  killAllNow();
  if (failed > 0) process.exitCode = 1;
}

// Children never outlive the bench: Ctrl-C, kill, or a crash all end them first.
process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAllNow();
    process.exit(130);
  });
}
main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killAllNow();
  process.exitCode = 1;
});
