#!/usr/bin/env node
// `node test/bench/cpu-profile.mjs <dir> [--per=<n>] [--top=<k>]` (issue 23 §1): where the CPU time
// of each benchmark child went, from the `.cpuprofile` files `run.mjs --cpu-prof=<dir>` made.
// Self time (V8 samples × their interval) is grouped by what the code belongs to — BullMQ, ioredis,
// zod, pino, the ollama client, Nightshift's own packages, Node's internals, GC — and, with
// `--per=<n>` (the requests the section served), divided into CPU microseconds per request.
// A profile is one process; processes of one kind (caller-1 … caller-6) are summed into one row.
// Module loading is start-up, not per request: subtract it, or use full-size runs where it is small.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a sampled frame belongs to, from its script URL and function name. */
export function categoryOf(url, functionName) {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)' || functionName === '(root)') return 'V8/native';
  // Native halves of a socket write: one per Redis round trip (or pipeline) — what §2 reduces.
  if (
    url === '' &&
    /^(writeUtf8String|writeBuffer|writev|writeLatin1String|writeAsciiString)$/.test(functionName)
  )
    return 'socket writes';
  if (
    url.startsWith('node:internal/modules/') ||
    url.startsWith('node:internal/bootstrap/') ||
    (url === '' && /^(ModuleWrap|readFileUtf8|internalModuleStat|compileFunction)$/.test(functionName))
  )
    return 'module loading (start-up)';
  if (url.startsWith('node:internal/deps/undici/')) return 'ollama/http client';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg === '@nightshift/redis' || pkg?.startsWith('@nightshift/')) return 'nightshift';
  if (pkg) {
    if (pkg === 'bullmq') return 'bullmq';
    if (pkg === 'ioredis' || pkg === 'redis-parser' || pkg === 'denque' || pkg === 'cluster-key-slot')
      return 'ioredis';
    if (pkg === 'zod') return 'zod';
    if (pkg === 'pino' || pkg.startsWith('pino-') || pkg === 'sonic-boom' || pkg === 'fast-redact')
      return 'pino';
    if (pkg === 'ollama' || pkg === 'undici' || pkg === 'whatwg-fetch') return 'ollama/http client';
    if (pkg === 'msgpackr' || pkg === 'cron-parser' || pkg === 'luxon' || pkg === 'uuid') return 'bullmq';
    return `other: ${pkg}`;
  }
  if (/\/(packages|services)\/[^/]+\/(dist|src)\//.test(url)) return 'nightshift';
  if (url.startsWith('node:') || url === '') return 'node internals';
  return 'other';
}

/** Self time in ms per category of one profile (samples × their time deltas). */
export function selfTime(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]);
    if (!node) continue;
    const category = categoryOf(node.callFrame.url, node.callFrame.functionName);
    ms.set(category, (ms.get(category) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  return ms;
}

function main() {
  const [dir, ...rest] = process.argv.slice(2);
  if (!dir || dir.startsWith('--')) {
    process.stderr.write('usage: node test/bench/cpu-profile.mjs <dir> [--per=<requests>]\n');
    process.exit(2);
  }
  const per = Number(rest.find((a) => a.startsWith('--per='))?.slice(6) ?? 0);
  const byProcess = new Map();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    // caller-1 … caller-6, llm-gateway-1 … -3: one row per kind of process.
    const name = file.replace(/\.\d+\.cpuprofile$/, '').replace(/-\d+$/, '');
    const into = byProcess.get(name) ?? new Map();
    for (const [category, ms] of selfTime(JSON.parse(readFileSync(join(dir, file), 'utf8')))) {
      into.set(category, (into.get(category) ?? 0) + ms);
    }
    byProcess.set(name, into);
  }
  if (byProcess.size === 0) {
    process.stderr.write(`no .cpuprofile files in ${dir}\n`);
    process.exit(1);
  }
  const unit = per > 0 ? `µs CPU per request (${per} requests)` : 'ms CPU';
  const scale = (ms) => (per > 0 ? Math.round((ms * 1000) / per) : Math.round(ms));
  const out = [
    `| process | busy, ${unit} | without start-up | by category (share of busy) |`,
    '|---|---:|---:|---|',
  ];
  for (const [name, categories] of [...byProcess].sort()) {
    const busy = [...categories].filter(([c]) => c !== 'idle').reduce((sum, [, ms]) => sum + ms, 0);
    const parts = [...categories]
      .filter(([c]) => c !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .map(([c, ms]) => `${c} ${Math.round((100 * ms) / busy)}%`);
    const startUp = categories.get('module loading (start-up)') ?? 0;
    out.push(`| ${name} | ${scale(busy)} | ${scale(busy - startUp)} | ${parts.slice(0, 10).join(', ')} |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
