// One sample of everything the soak watches grow: RSS per service, Redis used_memory, key count and
// stream lengths, the memory directory's size, log volume, queue depths. Read from the OS and from
// Redis (the truth), never from what the harness believes.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { QUEUE_NAMES, runArchiveDir } from '@nightshift/redis';
import { queueCounts } from '../../chaos/lib/checks.mjs';

/** Resident set size of a live process in bytes (Linux /proc), null when it is gone. */
export function rssBytes(pid) {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch (error) {
    void error; // the process exited between the listing and the read
    return null;
  }
}

/** Total size of the files under `dir` (0 when it does not exist). */
export function dirBytes(dir) {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return 0;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(path);
    else if (entry.isFile()) total += statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

/** Every run's own streams are summed into one series (one per run would be hundreds). */
export const RUN_STREAMS = 'run:<id>:* (all runs)';

/**
 * Every stream of the prefix with its length (SCAN, so a new stream kind is never missed); the
 * runs' own streams summed under RUN_STREAMS.
 */
export function groupStreams(lengths) {
  const out = {};
  for (const [name, n] of Object.entries(lengths)) {
    const key = name.startsWith('run:') ? RUN_STREAMS : name;
    out[key] = (out[key] ?? 0) + n;
  }
  return out;
}

async function streamLengths(redis, prefix) {
  const out = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'TYPE', 'stream', 'COUNT', 1000);
    cursor = next;
    for (const key of keys) out[key.slice(prefix.length + 1)] = await redis.xlen(key);
  } while (cursor !== '0');
  return groupStreams(out);
}

/** How many run archives the Scribe has written (`MEMORY_DIR/archive/<runId>.jsonl.gz`). */
export function runArchiveFiles(memoryDir) {
  const dir = runArchiveDir(memoryDir);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz')).length : 0;
}

const infoField = (info, name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);

/** Jobs waiting, active, delayed or prioritized per queue (dead-letter: everything it holds). */
function depths(counts) {
  const out = {};
  for (const [name, c] of Object.entries(counts)) {
    out[name] =
      name === QUEUE_NAMES.deadLetter
        ? Object.entries(c).reduce((n, [k, v]) => (k === 'paused' ? n : n + v), 0)
        : (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  }
  return out;
}

/**
 * Takes one sample. `runsFinished` / `runsCreated`: how many runs had ended / been enqueued when
 * it was taken (the x of the per-run figures). A Redis restarting right now gives no Redis part.
 */
export async function takeSample(world, { runsFinished, runsCreated }) {
  const at = Date.now();
  const rss = {};
  const logBytes = {};
  for (const proc of world.stack.everyProcess) {
    logBytes[proc.slot] = (logBytes[proc.slot] ?? 0) + proc.bytes;
    if (!proc.alive) continue;
    const bytes = rssBytes(proc.pid);
    if (bytes !== null) rss[proc.slot] = { pid: proc.pid, bytes };
  }
  const sample = {
    at,
    runsFinished,
    runsCreated,
    rss,
    logBytes,
    memoryDirBytes: dirBytes(world.memoryDir),
    archives: runArchiveFiles(world.memoryDir),
  };
  try {
    const redis = world.bus.redis;
    const info = await redis.info('memory');
    sample.redis = {
      usedMemory: infoField(info, 'used_memory'),
      keys: await redis.dbsize(),
      runsInRedis: await redis.zcard(world.keys.runsIndex),
      streams: await streamLengths(redis, world.prefix),
      queues: depths(await queueCounts(world.redis.url, world.prefix)),
    };
  } catch (error) {
    sample.redisError = error instanceof Error ? error.message : String(error);
  }
  return sample;
}
