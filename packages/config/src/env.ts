// Every environment variable Nightshift reads, as data (feeds .env.example), and its translation into config input.
import type { Problem } from '@nightshift/protocol';
import { ROLES } from '@nightshift/protocol';
import { DEFAULTS } from './defaults.js';
import { getAt, type Path, setAt } from './objects.js';
import { type SecretKind, secretKindOf } from './secrets.js';

/** How the text of a variable becomes a config value before the schema validates it. */
export type EnvKind = 'string' | 'number' | 'list';

export interface EnvVar {
  readonly name: string;
  /** Where the value lands in Config; absent for variables that steer loading itself. */
  readonly path?: Path;
  readonly kind: EnvKind;
  readonly description: string;
  /** The default as text (from DEFAULTS, so docs never drift); absent = unset by default. */
  readonly default?: string;
  readonly secret?: SecretKind;
}

type Spec = [name: string, path: Path | undefined, kind: EnvKind, description: string, fixedDefault?: string];

const ROLE_PREFIXES = {
  ROLE_TIMEOUT_: ['timeoutSeconds', 'number', 'Timeout in seconds of one task of role'],
  ROLE_PRIORITY_: ['priority', 'string', 'Priority (highest|high|normal|low) of role'],
  ROLE_CONCURRENCY_: ['concurrency', 'number', 'Jobs one process runs at once for role'],
  ROLE_TOOLS_: ['tools', 'list', 'Comma-separated tool names allowed to role'],
} as const;

const SPECS: Spec[] = [
  [
    'NIGHTSHIFT_CONFIG',
    undefined,
    'string',
    'Path of a JSON/YAML config file',
    'nightshift.config.{json,yaml,yml} in the working directory if present',
  ],
  ['REDIS_URL', ['redis', 'url'], 'string', 'Redis URL (redis:// or rediss://, password allowed)'],
  ['NIGHTSHIFT_PREFIX', ['redis', 'prefix'], 'string', 'Key prefix; wrap in {…} for Redis Cluster, no ":"'],
  ['REDIS_STREAM_MAXLEN', ['redis', 'streamMaxLen'], 'number', 'Approximate MAXLEN of each bus stream'],
  [
    'REDIS_MAX_DELIVERIES',
    ['redis', 'maxDeliveries'],
    'number',
    'Deliveries of a stream entry before dead-letter',
  ],
  [
    'REDIS_CLAIM_IDLE_MS',
    ['redis', 'claimIdleMs'],
    'number',
    'Idle time before XAUTOCLAIM takes an entry over',
  ],
  ['OLLAMA_HOST', ['ollama', 'host'], 'string', 'Ollama address (host:port or URL)'],
  ['OLLAMA_MODEL', ['ollama', 'model'], 'string', 'Model used by worker agents (guide §1)'],
  [
    'OLLAMA_NUM_PARALLEL',
    ['ollama', 'numParallel'],
    'number',
    'LLM calls at Ollama at once, across all processes',
  ],
  ['OLLAMA_MAX_QUEUE', ['ollama', 'maxQueue'], 'number', 'LLM calls allowed to wait before LlmQueueFull'],
  ['OLLAMA_KEEP_ALIVE', ['ollama', 'keepAlive'], 'string', 'How long Ollama keeps the model loaded'],
  ['OLLAMA_NUM_CTX', ['ollama', 'numCtx'], 'number', 'Context window (tokens) sent as num_ctx on every call'],
  ['OLLAMA_NUM_PREDICT', ['ollama', 'numPredict'], 'number', 'Most tokens of one answer (num_predict)'],
  [
    'OLLAMA_THINK',
    ['ollama', 'think'],
    'string',
    'Thinking of the worker model: false, true, low, medium or high',
  ],
  [
    'OLLAMA_THINKING_TRACE_CHARS',
    ['ollama', 'thinkingTraceChars'],
    'number',
    "Characters of the model's reasoning kept per call in the run's LLM call log (0 = never stored)",
  ],
  [
    'ANTHROPIC_API_KEY',
    ['anthropic', 'apiKey'],
    'string',
    'Anthropic key for the Director; unset = Ollama fallback',
  ],
  [
    'ANTHROPIC_BASE_URL',
    ['anthropic', 'baseUrl'],
    'string',
    'Anthropic API base URL (tests point it at a fake)',
  ],
  ['DIRECTOR_MODEL', ['anthropic', 'model'], 'string', 'Claude model of the Director'],
  ['ANTHROPIC_MAX_RETRIES', ['anthropic', 'maxRetries'], 'number', 'SDK retries on 408/409/429/5xx'],
  [
    'ANTHROPIC_TIMEOUT_MS',
    ['anthropic', 'timeoutMs'],
    'number',
    'Timeout of one Anthropic request',
    'the Director role timeout (120000)',
  ],
  [
    'NIGHTSHIFT_MODEL',
    ['model', 'mode'],
    'string',
    'Agent model: gateway, or instant (SIMULATED, tests/bench only)',
  ],
  ['ROLE', ['role'], 'string', `Role of this process: ${ROLES.join(', ')}`],
  [
    'WORKSPACE_DIR',
    ['workspaceDir'],
    'string',
    'Directory of run workspaces (relative = to the working directory)',
  ],
  [
    'WORKSPACE_ROOTS',
    ['workspaceRoots'],
    'list',
    'Comma-separated folders runs may work on (and below); anything else is refused',
    'WORKSPACE_DIR and the folder nightshift up was started in',
  ],
  [
    'RUN_BRANCH_PREFIX',
    ['git', 'branchPrefix'],
    'string',
    'Prefix of the branch each run works on (<prefix><run id>)',
  ],
  ['NIGHTSHIFT_GIT_AUTHOR_NAME', ['git', 'authorName'], 'string', "Author name of the team's commits"],
  ['NIGHTSHIFT_GIT_AUTHOR_EMAIL', ['git', 'authorEmail'], 'string', "Author email of the team's commits"],
  [
    'NIGHTSHIFT_GIT_PUSH_REMOTE',
    ['git', 'pushRemote'],
    'string',
    "Remote (a name in the user's repository) each run branch is pushed to after its milestone commits; unset = never pushed; never forced",
  ],
  [
    'CHECKOUT_RETENTION_HOURS',
    ['git', 'checkoutRetentionHours'],
    'number',
    "Hours a finished run's checkout is kept before it is pruned (its branch is kept)",
  ],
  ['MEMORY_DIR', ['memoryDir'], 'string', 'Directory of team-state.md, checkpoints, alerts'],
  ['LOG_LEVEL', ['logLevel'], 'string', 'fatal|error|warn|info|debug|trace|silent'],
  ...ROLES.flatMap((role) =>
    Object.entries(ROLE_PREFIXES).map(
      ([prefix, [key, kind, text]]): Spec => [
        `${prefix}${role.toUpperCase()}`,
        ['roles', role, key],
        kind,
        `${text} ${role}`,
      ],
    ),
  ),
  ['TOOLS_DENY', ['tools', 'deny'], 'list', 'Comma-separated tools no role may use (wins over roles)'],
  [
    'TOOLS_MAX_ITERATIONS',
    ['tools', 'maxToolIterations'],
    'number',
    'Model calls one tool loop may make before it stops with an ALERT',
  ],
  [
    'TOOLS_CONTEXT_BUDGET_CHARS',
    ['tools', 'contextBudgetChars'],
    'number',
    'Max characters per model call; oldest tool outputs are truncated first',
  ],
  [
    'TOOLS_COMMAND_ALLOWLIST',
    ['tools', 'commandAllowlist'],
    'list',
    'Comma-separated command prefixes run_command accepts',
  ],
  [
    'TOOLS_COMMAND_TIMEOUT_MS',
    ['tools', 'commandTimeoutMs'],
    'number',
    'Timeout of one run_command/git call',
  ],
  [
    'TOOLS_OUTPUT_CAP_BYTES',
    ['tools', 'outputCapBytes'],
    'number',
    'Cap on each tool output stream, file read and search result',
  ],
  [
    'TOOLS_SANDBOX',
    ['tools', 'sandbox'],
    'string',
    'on: commands and git run in the OS sandbox (bubblewrap); off: unconfined (not recommended)',
  ],
  ['QUEUE_LOCK_DURATION_MS', ['queues', 'lockDurationMs'], 'number', 'BullMQ job lock duration'],
  [
    'QUEUE_STALLED_INTERVAL_MS',
    ['queues', 'stalledIntervalMs'],
    'number',
    'BullMQ stalled-job check interval',
  ],
  [
    'QUEUE_MAX_STALLED_COUNT',
    ['queues', 'maxStalledCount'],
    'number',
    'Stalls a job survives before failing',
  ],
  [
    'QUEUE_RATE_LIMIT_DELAY_MS',
    ['queues', 'rateLimitDelayMs'],
    'number',
    'Longest a worker held back by a circuit trial gate waits before asking again',
  ],
  [
    'HEARTBEAT_INTERVAL_MS',
    ['heartbeat', 'intervalMs'],
    'number',
    'How often each service writes its heartbeat',
  ],
  [
    'HEARTBEAT_TTL_MS',
    ['heartbeat', 'ttlMs'],
    'number',
    'Heartbeat expiry (a service silent this long is down)',
  ],
  ['DASHBOARD_HOST', ['dashboard', 'host'], 'string', 'Dashboard bind address'],
  ['DASHBOARD_PORT', ['dashboard', 'port'], 'number', 'Dashboard port'],
  ['DASHBOARD_TOKEN', ['dashboard', 'token'], 'string', 'Bearer token for the dashboard (>= 16 chars)'],
  [
    'DASHBOARD_ALLOWED_HOSTS',
    ['dashboard', 'allowedHosts'],
    'list',
    'Comma-separated extra Host names the dashboard answers to (name or name:port; loopback is always allowed)',
  ],
  ['ALERT_WEBHOOK_URL', ['alerts', 'webhookUrl'], 'string', 'Webhook POSTed on escalation level 3+'],
  ['ALERT_WEBHOOK_SECRET', ['alerts', 'webhookSecret'], 'string', 'HMAC secret signing webhook bodies'],
  ['HEALTH_PORT', ['health', 'port'], 'number', 'Port of GET /healthz of this service (unset = no endpoint)'],
  ['HEALTH_HOST', ['health', 'host'], 'string', 'Bind address of the health endpoint'],
  [
    'DIRECTOR_LEASE_TTL_MS',
    ['director', 'leaseTtlMs'],
    'number',
    'Director lease TTL (a spare takes over after it)',
  ],
  ['DIRECTOR_TICK_MS', ['director', 'tickMs'], 'number', 'How often the Director re-checks open runs'],
  [
    'SUBAGENT_RUN_TIMEOUT_SECONDS',
    ['subagents', 'runTimeoutSeconds'],
    'number',
    'Longest one worker task may take from its first start, across restarts',
  ],
  [
    'SCRIBE_SUMMARY_MAX_TOKENS',
    ['scribe', 'summaryMaxTokens'],
    'number',
    'Bound of the Scribe rolling summary given to agents',
  ],
  [
    'SCRIBE_SUMMARY_MAX_FOLDS',
    ['scribe', 'summaryMaxFolds'],
    'number',
    'Most runs the Scribe summarises at once (caps its summary calls waiting for the model)',
  ],
  [
    'SUBAGENT_ARCHIVE_AFTER_MINUTES',
    ['subagents', 'archiveAfterMinutes'],
    'number',
    'Scribe archives memory files older than this',
  ],
  [
    'RUN_RETENTION_HOURS',
    ['retention', 'runMaxAgeHours'],
    'number',
    'Finished runs older than this (hours, fractions allowed) are archived out of Redis to MEMORY_DIR/archive; 0 = no age limit',
  ],
  [
    'RUN_RETENTION_KEEP',
    ['retention', 'keepRuns'],
    'number',
    'Finished runs kept in Redis (newest first); older finished runs are archived; 0 = no count limit',
  ],
  [
    'RUN_RETENTION_CHECK_SECONDS',
    ['retention', 'checkSeconds'],
    'number',
    'How often the Scribe applies the run retention',
  ],
  ['RUN_RETENTION_BATCH', ['retention', 'batch'], 'number', 'Most runs one retention pass archives'],
  [
    'MEMORY_RETENTION_DAYS',
    ['retention', 'memoryDays'],
    'number',
    "Run archives (and the run's memory folder) older than this many days are deleted; 0 = kept forever",
  ],
  [
    'PLAN_HISTORY_RUNS',
    ['plan', 'historyRuns'],
    'number',
    'Latest finished runs that nightshift plan and the ETAs learn step times from',
  ],
  ['PLAN_SAMPLES', ['plan', 'samples'], 'number', 'Simulated nights drawn by nightshift plan'],
  ['ETA_SAMPLES', ['plan', 'etaSamples'], 'number', 'Simulated nights drawn for the ETA of each open run'],
  [
    'PLAN_LOAD_STRETCH',
    ['plan', 'loadStretch'],
    'number',
    "How much a step's tool and command time stretches per other run under way at once (0.08 = +8 %)",
  ],
  [
    'ETA_CACHE_MS',
    ['plan', 'etaCacheMs'],
    'number',
    'How long a reader (dashboard, client) reuses one ETA forecast',
  ],
  ['SENTINEL_INTERVAL_MS', ['sentinel', 'intervalMs'], 'number', 'How often the Sentinel judges the team'],
  [
    'SENTINEL_LEASE_TTL_MS',
    ['sentinel', 'leaseTtlMs'],
    'number',
    'Sentinel lease TTL (a spare takes over after it)',
  ],
  [
    'SENTINEL_CIRCUIT_FAILURES',
    ['sentinel', 'circuitFailureThreshold'],
    'number',
    'Consecutive provider failures that open a queue circuit',
  ],
  [
    'SENTINEL_CIRCUIT_COOL_DOWN_MS',
    ['sentinel', 'circuitCoolDownMs'],
    'number',
    'How long an open circuit waits before one trial job',
  ],
  [
    'SENTINEL_CIRCUIT_MAX_COOL_DOWN_MS',
    ['sentinel', 'circuitMaxCoolDownMs'],
    'number',
    'Longest wait between two trial jobs (the cool-down doubles per failed trial)',
  ],
  [
    'SENTINEL_CIRCUIT_TRIAL_TIMEOUT_MS',
    ['sentinel', 'circuitTrialTimeoutMs'],
    'number',
    'How long a trial job runs before the next is admitted',
  ],
];

function defaultText(path: Path | undefined): string | undefined {
  if (path === undefined) return undefined;
  const value = getAt(DEFAULTS, path);
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

export const ENV_VARS: readonly EnvVar[] = Object.freeze(
  SPECS.map(([name, path, kind, description, fixedDefault]) => {
    const secret = path === undefined ? undefined : secretKindOf(path);
    const def = fixedDefault ?? defaultText(path);
    return Object.freeze({
      name,
      kind,
      description,
      ...(path === undefined ? {} : { path }),
      ...(def === undefined ? {} : { default: def }),
      ...(secret === undefined ? {} : { secret }),
    });
  }),
);

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function convert(kind: EnvKind, text: string): unknown {
  if (kind === 'number') return NUMBER_RE.test(text) ? Number(text) : text; // left as text: the schema reports it
  if (kind === 'list')
    return text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  return text;
}

export interface EnvInput {
  /** Partial config input built from the variables that are set. */
  data: Record<string, unknown>;
  /** config path (dot-joined) → the variable it came from. */
  origins: Map<string, EnvVar>;
  problems: Problem[];
}

/**
 * Reads only the known variables. Empty values count as unset, as `FOO=` in a compose file
 * usually means "not configured" rather than "the empty string".
 */
export function readEnv(env: Readonly<Record<string, string | undefined>>): EnvInput {
  const data: Record<string, unknown> = {};
  const origins = new Map<string, EnvVar>();
  for (const spec of ENV_VARS) {
    const raw = env[spec.name]?.trim();
    if (spec.path === undefined || raw === undefined || raw === '') continue;
    setAt(data, spec.path, convert(spec.kind, raw));
    origins.set(spec.path.join('.'), spec);
  }
  return { data, origins, problems: unknownRoleVariables(env) };
}

// A typo such as ROLE_TIMEOUT_BULDER would otherwise be ignored silently.
function unknownRoleVariables(env: Readonly<Record<string, string | undefined>>): Problem[] {
  const known = new Set(ENV_VARS.map((v) => v.name));
  return Object.keys(env)
    .filter((name) => Object.keys(ROLE_PREFIXES).some((p) => name.startsWith(p)) && !known.has(name))
    .map((name) => ({
      path: name,
      expected: `a role suffix, one of ${ROLES.map((r) => r.toUpperCase()).join(', ')}`,
    }));
}
