// The soak's settings: every number is a named default here (full and smoke), overridable by a
// flag; a bad flag fails at once naming the flag and the form it expects.

/** Full soak, sized for ~20 minutes on the 2-core dev box. */
export const FULL_DEFAULTS = {
  runs: 250,
  parallel: 3,
  hours: 1 / 3, // no run starts after this; those in flight get settleSec to end
  sampleSec: 5,
  warmupRuns: 3, // growth slopes start after this many runs finished
  faultEverySec: 90,
  faults: ['kill', 'redis-restart', 'ollama-outage'], // rotated in this order
  maxFaults: 1000,
  outageSec: 20,
  redisDowntimeSec: 2,
  restartDelaySec: 1, // the supervisor starts a killed service again after this
  latencyMedianMs: 400, // simulated model: log-normal latency per call
  latencySigma: 0.6,
  latencyMaxMs: 5000,
  recoveryTimeoutSec: 180, // a fault whose runs make no progress within this is "not recovered"
  settleSec: 120, // after the last run: time allowed for queues and groups to empty
  // Retention of finished runs (RUN_RETENTION_HOURS / _CHECK_SECONDS of the Scribe), short here.
  retentionSec: 120,
  retentionCheckSec: 10,
  // Growth bounds (asserted at the end).
  rssSlopeMbPerRun: 2, // every service, after warm-up
  keysPerRun: 150, // Redis keys ≤ baseline + this × runs enqueued, at every sample
  usedMemoryKbPerRun: 400, // used_memory ≤ baseline + this × runs enqueued, at every sample
  // Once retention has archived every run: what may stay in Redis whatever the number of runs
  // (dead letters, alerts, the Sentinel's and the queues' own keys).
  keysAfterRetention: 300,
  usedMemoryMbAfterRetention: 8,
};

/** `--smoke`: a few runs, one fault of each kind, a couple of minutes. */
export const SMOKE_DEFAULTS = {
  ...FULL_DEFAULTS,
  runs: 4,
  parallel: 2,
  hours: 0.1, // ~2 min of starting runs at most (it usually needs about one)
  sampleSec: 2,
  warmupRuns: 2,
  faultEverySec: 10,
  maxFaults: 3,
  outageSec: 6,
  redisDowntimeSec: 1,
  latencyMedianMs: 150,
  latencyMaxMs: 1500,
  recoveryTimeoutSec: 90,
  settleSec: 60,
  retentionSec: 15,
  retentionCheckSec: 3,
  // Few runs after warm-up make a slope noisy (a JIT or heap step is one sample away from the
  // next run): the bound is wider, still far below what a per-run leak of a checkout or a log
  // page would show.
  rssSlopeMbPerRun: 8,
};

const FAULT_KINDS = ['kill', 'redis-restart', 'ollama-outage'];
const INTEGER = new Set([
  'runs',
  'parallel',
  'warmupRuns',
  'maxFaults',
  'keysPerRun',
  'keysAfterRetention',
  'retentionCheckSec',
]);

const USAGE = `usage: node test/soak/run.mjs [--smoke] [--runs=N] [--parallel=N] [--hours=H]
  [--faults=${FAULT_KINDS.join(',')}] [--fault-every=S] [--max-faults=N] [--sample=S] [--out=file.json]
  [--plots=dir] [--latency-median=MS] [--rss-slope=MB] [--keys-per-run=N] [--used-memory-per-run=KB]
  [--retention=S] [--retention-check=S] [--keys-after-retention=N] [--used-memory-after-retention=MB]`;

const FLAGS = {
  '--runs': 'runs',
  '--parallel': 'parallel',
  '--hours': 'hours',
  '--sample': 'sampleSec',
  '--warmup-runs': 'warmupRuns',
  '--fault-every': 'faultEverySec',
  '--max-faults': 'maxFaults',
  '--outage': 'outageSec',
  '--latency-median': 'latencyMedianMs',
  '--rss-slope': 'rssSlopeMbPerRun',
  '--keys-per-run': 'keysPerRun',
  '--used-memory-per-run': 'usedMemoryKbPerRun',
  '--retention': 'retentionSec',
  '--retention-check': 'retentionCheckSec',
  '--keys-after-retention': 'keysAfterRetention',
  '--used-memory-after-retention': 'usedMemoryMbAfterRetention',
};

/** Parses argv; throws an Error listing every bad flag at once. */
export function parseArgs(argv) {
  const smoke = argv.includes('--smoke');
  const opts = { ...(smoke ? SMOKE_DEFAULTS : FULL_DEFAULTS), smoke, out: undefined, plots: undefined };
  const problems = [];
  for (const arg of argv) {
    if (arg === '--smoke') continue;
    if (arg === '--help' || arg === '-h') return { help: USAGE };
    const [flag, value] = arg.split(/=(.*)/s, 2);
    if (flag === '--out' || flag === '--plots') {
      if (!value) problems.push(`${flag}: expected a path, e.g. ${flag}=bench-results/soak`);
      else opts[flag.slice(2)] = value;
    } else if (flag === '--faults') {
      const kinds = (value ?? '').split(',').filter(Boolean);
      const bad = kinds.filter((k) => !FAULT_KINDS.includes(k));
      if (bad.length > 0 || kinds.length === 0)
        problems.push(`--faults: expected a comma list of ${FAULT_KINDS.join(', ')} (got "${value ?? ''}")`);
      else opts.faults = kinds;
    } else if (flag in FLAGS) {
      const key = FLAGS[flag];
      const n = Number(value);
      const whole = INTEGER.has(key);
      if (
        value === undefined ||
        value === '' ||
        !Number.isFinite(n) ||
        n <= 0 ||
        (whole && !Number.isInteger(n))
      )
        problems.push(`${flag}: expected a positive ${whole ? 'integer' : 'number'} (got "${value ?? ''}")`);
      else opts[key] = n;
    } else problems.push(`${arg}: unknown argument`);
  }
  if (problems.length > 0) throw new Error(`bad arguments:\n  ${problems.join('\n  ')}\n${USAGE}`);
  return opts;
}
