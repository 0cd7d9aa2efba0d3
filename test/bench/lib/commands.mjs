// Where a request's Redis work goes (issue 23 §1), counted rather than timed, so the figures hold on a
// loaded machine: MONITOR sees every command, and tells a client's round trip (`[0 127.0.0.1:port]`)
// from a command a Lua script ran (`[0 lua]`). What the processes do when nothing is asked of them
// (heartbeats, blocking reads timing out, BullMQ's stalled checks) is measured over an idle window
// first and subtracted at its rate.
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sleep } from '@nightshift/testkit';
import { round } from './stats.mjs';

/** The first key of a command with its prefix and ids folded (`nightshift-x:published:*`), for attribution. */
function keyShape(name, args) {
  const key = String((name === 'EVALSHA' || name === 'EVAL' ? args[3] : args[1]) ?? '');
  return key
    .replace(/^bench-[^:]+|^ns-[^:]+/, '<prefix>')
    .replace(/(msg|run|job)_[A-Za-z0-9_-]+/g, '$1_*')
    .replace(/:\d+$/, ':<n>');
}

/**
 * A MONITOR session on a plain socket: ioredis in monitor mode can mistake a monitored line for the
 * reply to its own setup commands ("Command queue state error"), so the few lines of RESP are spoken
 * here. Calls `onLine(args, source)` per command; `stop()` closes the socket.
 */
async function openMonitor(redisUrl, onLine) {
  const url = new URL(redisUrl);
  const socket = createConnection({ host: url.hostname, port: Number(url.port || 6379) });
  socket.setEncoding('utf8');
  await once(socket, 'connect');
  const password = decodeURIComponent(url.password);
  if (password !== '') {
    const user = decodeURIComponent(url.username);
    socket.write(user === '' ? `AUTH ${password}\r\n` : `AUTH ${user} ${password}\r\n`);
  }
  socket.write('MONITOR\r\n');
  let partial = '';
  let started;
  const ok = new Promise((resolve, reject) => {
    started = { resolve, reject };
  });
  socket.on('data', (chunk) => {
    const lines = (partial + chunk).split('\r\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '+OK') started.resolve();
      else if (line.startsWith('-')) started.reject(new Error(`MONITOR refused: ${line.slice(1)}`));
      else if (line.startsWith('+')) {
        // +<time> [<db> <source>] "<command>" "<arg>" ...
        const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
        if (match) onLine(quotedArgs(match[2] ?? ''), match[1]);
      }
    }
  });
  await ok;
  return {
    stop() {
      socket.destroy();
    },
  };
}

/** The quoted arguments of a MONITOR line (`"get" "key"`), escapes left as they are. */
function quotedArgs(text) {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
}

/**
 * Runs `work` while MONITOR counts: { ms, client: round trips by command, script: commands Lua ran,
 * keys: every client command by its key's shape }.
 */
async function monitorDuring(redisUrl, work) {
  const client = {};
  const script = {};
  const keys = {};
  const count = (into, name) => {
    into[name] = (into[name] ?? 0) + 1;
  };
  // A MULTI … EXEC block goes out as one write and comes back as one reply: one round trip, counted
  // at its EXEC; the commands queued inside it are listed by key but are not round trips of their own.
  const inMulti = new Set();
  const monitor = await openMonitor(redisUrl, (args, source) => {
    const name = String(args[0] ?? '').toUpperCase();
    if (name === '' || name === 'MONITOR') return;
    if (source === 'lua') return count(script, name);
    count(keys, `${name} ${keyShape(name, args)}`);
    if (name === 'MULTI') return inMulti.add(source);
    if (name === 'EXEC' || name === 'DISCARD') inMulti.delete(source);
    else if (inMulti.has(source)) return;
    count(client, name === 'EXEC' ? 'MULTI…EXEC' : name);
  });
  const started = performance.now();
  try {
    await work();
    // Lines still on their way when the work returned belong to it.
    await sleep(50);
    return { ms: performance.now() - started, client, script, keys };
  } finally {
    monitor.stop();
  }
}

/** `counts` over `n` requests, less the idle rate over the same time; zeros and negatives dropped. */
function perRequest(busy, idle, n) {
  const out = {};
  for (const name of new Set([...Object.keys(busy.counts), ...Object.keys(idle.counts)])) {
    const background = ((idle.counts[name] ?? 0) / idle.ms) * busy.ms;
    const value = round(((busy.counts[name] ?? 0) - background) / n, 2);
    if (value > 0.005) out[name] = value;
  }
  return out;
}

const total = (byCommand) =>
  round(
    Object.values(byCommand).reduce((a, b) => a + b, 0),
    2,
  );

/**
 * Counts the commands per request of `send` (one request at a time, `n` of them), background
 * subtracted: { roundTrips, scriptCommands, byCommand: client round trips, inScripts }.
 */
export async function commandsPerRequest(redisUrl, n, send, idleMs = 2000) {
  const idle = await monitorDuring(redisUrl, () => sleep(idleMs));
  const busy = await monitorDuring(redisUrl, async () => {
    for (let i = 0; i < n; i++) await send(i);
  });
  const byCommand = perRequest({ counts: busy.client, ms: busy.ms }, { counts: idle.client, ms: idle.ms }, n);
  const inScripts = perRequest({ counts: busy.script, ms: busy.ms }, { counts: idle.script, ms: idle.ms }, n);
  const byKey = perRequest({ counts: busy.keys, ms: busy.ms }, { counts: idle.keys, ms: idle.ms }, n);
  return {
    requests: n,
    roundTrips: total(byCommand),
    scriptCommands: total(inScripts),
    byCommand,
    inScripts,
    byKey,
  };
}
