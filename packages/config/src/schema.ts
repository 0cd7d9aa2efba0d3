// The zod schema of the whole configuration, with every default from the guide; Config = its output.
import { ROLES } from '@nightshift/protocol';
import { z } from 'zod';
import {
  duration,
  httpUrl,
  int,
  keyPrefix,
  num,
  ollamaHost,
  redisUrl,
  stringList,
  token,
  toolName,
} from './primitives.js';
import { RolesSchema } from './roles.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** guide §4 "Escalation Levels": 0 normal … 4 abort. */
export const ESCALATION_LEVELS = [
  { level: 0, name: 'normal', action: 'no intervention' },
  { level: 1, name: 'agent', action: 'director reassigns or restarts the agent' },
  { level: 2, name: 'coordination', action: 'emergency meeting, director mediates' },
  { level: 3, name: 'system', action: 'all agents pause, state dump, wait for a human' },
  { level: 4, name: 'abort', action: 'graceful shutdown, state preserved' },
] as const;

const RedisSchema = z
  .strictObject({
    url: redisUrl.default('redis://127.0.0.1:6379'),
    prefix: keyPrefix.default('nightshift'),
    streamMaxLen: int(1).default(100_000),
    maxDeliveries: int(1).default(5),
    // A bus entry held by a consumer that died is taken over after this (issue 21 §3: recovery in
    // seconds). Handling an entry takes milliseconds, so 10 s never takes one from a live consumer.
    claimIdleMs: int(1).default(10_000),
  })
  .prefault({});

const OllamaSchema = z
  .strictObject({
    host: ollamaHost.default('http://127.0.0.1:11434'),
    model: token('a model name like qwen3:32b').default('qwen3:32b'),
    // guide §1: 2 parallel is safe for a 32B model on 24 GB; 100 queued before refusing.
    numParallel: int(1).default(2),
    maxQueue: int(1).default(100),
    keepAlive: duration.default('60m'),
    // Sent on every call: Ollama's own default window (2048) silently cuts longer prompts. The
    // arithmetic behind 8192 for qwen3:32b × 2 slots on 24 GB is in docs/operations.md.
    numCtx: int(512, 1_048_576).default(8192),
    // Room kept for the answer; the tool loop's context budget is num_ctx − num_predict.
    numPredict: int(16).default(2048),
    // qwen3 thinks unless told not to: off by default (faster, fewer tokens); a level if the model has them.
    think: z
      .enum(['false', 'true', 'low', 'medium', 'high'], { error: 'one of false, true, low, medium, high' })
      .default('false'),
    // The model's reasoning is kept out of every parser and, by default, not stored at all; N > 0
    // keeps up to N characters of it per call in the run's LLM call log (and so in its archive).
    thinkingTraceChars: int(0, 1_000_000).default(0),
  })
  .refine((o) => o.numPredict < o.numCtx, {
    path: ['numPredict'],
    error: 'less than OLLAMA_NUM_CTX (the answer must fit in the window with its prompt)',
  })
  .prefault({});

const AnthropicSchema = z
  .strictObject({
    apiKey: token('a non-empty API key without spaces').optional(),
    baseUrl: httpUrl().optional(),
    model: token('a model name like claude-sonnet-4-6').default('claude-sonnet-4-6'),
    maxRetries: int(0, 10).default(2),
    // Unset = the Director's role timeout (guide §7: 120 s), filled in by the root transform.
    timeoutMs: int(1).optional(),
  })
  .prefault({});

const SubagentsSchema = z
  .strictObject({
    // guide §2/§7: maxConcurrent 2 matches OLLAMA_NUM_PARALLEL=2.
    maxConcurrent: int(1).default(2),
    archiveAfterMinutes: int(1).default(120),
    runTimeoutSeconds: int(1).default(900),
  })
  .prefault({});

export const SANDBOX_MODES = ['on', 'off'] as const;

const ToolsSchema = z
  .strictObject({
    deny: stringList(toolName).default(() => ['gateway', 'cron']), // guide §7
    maxToolIterations: int(1).default(20),
    commandAllowlist: stringList(z.string({ error: 'a command prefix' }).min(1)).default(() => [
      'npm test',
      'node --test',
      'npx vitest run',
    ]),
    commandTimeoutMs: int(1).default(120_000),
    outputCapBytes: int(1).default(65_536),
    // guide §10.3 "set max context per agent call": past this many characters the tool loop
    // truncates the oldest tool outputs first (never the system prompt or the request).
    contextBudgetChars: int(2000).default(24_000),
    // issue 17: every command and git call runs in the OS sandbox (bubblewrap); `off` runs them
    // unconfined and is then announced at every service start, on the dashboard and in the report.
    sandbox: z
      .enum(SANDBOX_MODES, { error: 'on, or off (commands run unconfined, not recommended)' })
      .default('on'),
  })
  .prefault({});

export const MODEL_MODES = ['gateway', 'instant'] as const;
export type ModelMode = (typeof MODEL_MODES)[number];

const ModelSchema = z
  .strictObject({
    // gateway = the real path through llm-gateway; instant = a SIMULATED model answering at once
    // (dispatch benchmark and tests only; every answer says so).
    mode: z
      .enum(MODEL_MODES, { error: 'gateway, or instant (simulated, tests/bench only)' })
      .default('gateway'),
  })
  .prefault({});

// Issue 18: every run works on its own checkout and branch `<branchPrefix><runId>`; the user's
// working tree is never written. A push remote, when named, receives each run branch (never forced).
const REMOTE_FORM =
  'the name of a remote of the repository (git remote), like origin: letters, digits, . _ -, not a URL';
const BRANCH_PREFIX_FORM = 'a branch prefix of letters, digits, _ . / - (like nightshift/), without ".."';
const GitSchema = z
  .strictObject({
    branchPrefix: z
      .string({ error: BRANCH_PREFIX_FORM })
      .regex(/^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$/, { error: BRANCH_PREFIX_FORM })
      .refine((p) => !p.includes('..') && !p.includes('//') && !p.endsWith('.'), {
        error: BRANCH_PREFIX_FORM,
      })
      .default('nightshift/'),
    authorName: z.string({ error: 'a name' }).trim().min(1).max(200).default('Nightshift'),
    authorEmail: z
      .string({ error: 'an email address like nightshift@localhost' })
      .regex(/^[^\s<>@]+@[^\s<>@]+$/, { error: 'an email address like nightshift@localhost' })
      .default('nightshift@localhost'),
    // A remote NAME of the user's repository (its URL and credentials are the operator's own),
    // never a URL: nothing a config typo or a run names can add a transport. Unset = never push.
    pushRemote: z
      .string({ error: REMOTE_FORM })
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: REMOTE_FORM })
      .refine((r) => !r.includes('..') && !r.endsWith('.lock'), { error: REMOTE_FORM })
      .optional(),
    // Checkouts of finished runs are removed after this many hours; their branches are kept.
    checkoutRetentionHours: num(0, 24 * 365).default(72),
  })
  .prefault({});

const TrustSchema = z
  .strictObject({
    // guide §9: range 1–10, start at 7; §3: emergency when trust drops below 3.
    min: int(0).default(1),
    max: int(1).default(10),
    start: int(0).default(7),
    emergencyBelow: int(0).default(3),
  })
  .superRefine((t, ctx) => {
    if (t.min >= t.max)
      ctx.addIssue({ code: 'custom', path: ['max'], message: `an integer > trust.min (${t.min})` });
    if (t.start < t.min || t.start > t.max)
      ctx.addIssue({ code: 'custom', path: ['start'], message: `an integer from trust.min to trust.max` });
    if (t.emergencyBelow < t.min || t.emergencyBelow > t.max)
      ctx.addIssue({
        code: 'custom',
        path: ['emergencyBelow'],
        message: `an integer from trust.min to trust.max`,
      });
  })
  .prefault({});

const DebateSchema = z
  .strictObject({
    maxRounds: int(1).default(3), // guide §3 "MAX ROUNDS: 3", §6 rule 3
    // guide §6 rule 2: 5 of 7 agree, or a trust-weighted share above 0.7.
    supermajority: z
      .strictObject({ agree: int(1).default(5), of: int(1).default(7) })
      .superRefine((s, ctx) => {
        if (s.agree > s.of)
          ctx.addIssue({ code: 'custom', path: ['agree'], message: 'an integer <= supermajority.of' });
      })
      .prefault({}),
    weightedThreshold: num(0, 1).default(0.7),
  })
  .prefault({});

const WorkflowSchema = z
  .strictObject({
    maxIterations: int(1).default(5),
    // Expected duration per phase (P1 planning … P4 iterate); guide §4 runaway rule: > 2× is an overrun.
    phaseExpectedSeconds: z
      .strictObject({
        1: int(1).default(600),
        2: int(1).default(1800),
        3: int(1).default(900),
        4: int(1).default(300),
      })
      .prefault({}),
  })
  .prefault({});

const DetectionSchema = z
  .strictObject({
    stuckCalls: int(1).default(3), // guide §4.1: no progress for 3 consecutive calls
    sameErrorRepeats: int(1).default(3), // guide §4.1: same error 3 times
    memoryPercent: num(1, 100).default(90), // guide §4.3
    queueDepth: int(1).default(50), // guide §4.3
    // Issue 21: background calls (the Scribe's summaries, the lowest priority on `llm`) are judged
    // apart from the team's requests, against this higher number: they yield to every team call by
    // design, so dozens waiting behind a busy team is normal, not a stuck team.
    backgroundQueueDepth: int(1).default(200),
    llmLatencySeconds: int(1).default(300), // guide §4.3: latency > 5 minutes
    promptCuts: int(0).default(0), // issue 20: more than N possibly cut prompts in a run → L1
    criticalBugs: int(1).default(5), // guide §4.4: > 5 critical bugs in one review
    maxTaskAttempts: int(1).default(5), // guide §4.5: same task attempted > 5 times
    phaseOverrunFactor: num(1, 100).default(2), // guide §4.5: phase duration > 2× expected
    agentStuckMinutes: int(1).default(10), // guide §3 emergency: agent stuck > 10 minutes
    escalateAfterAttempts: int(1).default(2), // guide §3: unresolved after 2 attempts → human
  })
  .prefault({});

const EscalationLevelSchema = z.strictObject({
  level: int(0, 4),
  name: token('a level name'),
  action: z.string({ error: 'a description' }),
});
const EscalationSchema = z
  .strictObject({
    levels: z
      .array(EscalationLevelSchema)
      .refine((levels) => levels.length === 5 && levels.every((l, i) => l.level === i), {
        error: 'exactly five levels numbered 0 to 4 in order',
      })
      .default(() => ESCALATION_LEVELS.map((l) => ({ ...l }))),
  })
  .prefault({});

const QueuesSchema = z
  .strictObject({
    // REFERENCE.md: BullMQ's maxStalledCount 1 fails a job the second time its worker dies;
    // agents crash-restart, so tolerate 3 stalls. Recovery in seconds (issue 21 §3): a job whose
    // worker was killed is back in the queue at most lock + stall interval after the kill (≤ 15 s),
    // instead of BullMQ's 30 s + 30 s. BullMQ renews a live worker's lock every lockDuration / 2
    // (5 s), from a timer, so only an event loop blocked for 10 s could lose a live job; the chaos
    // harness runs with 6 s / 2 s on a loaded 2-core box without that happening.
    lockDurationMs: int(1000).default(10_000),
    stalledIntervalMs: int(1000).default(5_000),
    maxStalledCount: int(0).default(3),
    // Issue 21: the longest a worker turned away by a queue's global rate limit waits before it asks
    // again (BullMQ's maximumRateLimitDelay, 30 s by default). The only global rate limit here is the
    // circuit breaker's trial gate; once a trial succeeded and the gate is gone, every worker is back
    // within this instead of up to 30 s later. Cost: one poll per worker per interval while gated.
    rateLimitDelayMs: int(100).default(1_000),
  })
  .prefault({});

const HeartbeatSchema = z
  .strictObject({ intervalMs: int(100).default(5000), ttlMs: int(100).default(15_000) })
  .superRefine((h, ctx) => {
    if (h.ttlMs <= h.intervalMs)
      ctx.addIssue({ code: 'custom', path: ['ttlMs'], message: 'an integer > heartbeat.intervalMs' });
  })
  .prefault({});

const DashboardSchema = z
  .strictObject({
    host: token('a host name or IP address').default('127.0.0.1'),
    port: int(0, 65_535).default(8080),
    // Names besides loopback and the bind address that the dashboard answers to (DNS-rebinding guard,
    // services/dashboard/src/host-check.ts): `name` or `name:port`, or `*` to accept any Host.
    allowedHosts: stringList(
      z
        .string({ error: 'a host name, host:port, [IPv6]:port or *' })
        .regex(/^(\*|\[[0-9A-Fa-f:.]+\](:\d{1,5})?|[A-Za-z0-9.-]+(:\d{1,5})?|[0-9A-Fa-f:]+)$/, {
          error: 'a host name, host:port, [IPv6]:port or *',
        }),
    ).default(() => []),
    token: z
      .string({ error: 'a token of at least 16 characters without spaces' })
      .regex(/^\S{16,}$/, { error: 'a token of at least 16 characters without spaces' })
      .optional(),
  })
  .prefault({});

const AlertsSchema = z
  .strictObject({
    webhookUrl: httpUrl().optional(),
    webhookSecret: token('a non-empty secret without spaces').optional(),
    minLevel: int(0, 4).default(3), // guide §4 "Human Notification": webhook on Level 3+
  })
  .prefault({});

const HealthSchema = z
  .strictObject({
    // Each service serves GET /healthz here when set (Docker HEALTHCHECK, k8s probes); unset = off.
    port: int(0, 65_535).optional(),
    host: token('a host name or IP address').default('127.0.0.1'),
  })
  .prefault({});

const DirectorSchema = z
  .strictObject({
    // One active Director (lease); a spare takes over within about one TTL (issue 5).
    leaseTtlMs: int(500).default(10_000),
    // How often open runs are re-checked for timeouts and human answers.
    tickMs: int(50).default(1000),
  })
  .prefault({});

const ScribeSchema = z
  .strictObject({
    // The rolling summary the Director passes on in REQUEST contexts (guide §6: keep context small).
    summaryMaxTokens: int(100).default(2000),
    // Issue 21: most runs the Scribe summarises at once, so its calls waiting on `llm` (the lowest
    // priority, starved by a busy team or an outage) stay a handful instead of one per ended run.
    summaryMaxFolds: int(1).default(2),
  })
  .prefault({});

const SentinelSchema = z
  .strictObject({
    // How often the leading Sentinel judges the deployment (2 × the Director's default tick).
    intervalMs: int(200).default(2000),
    // One active Sentinel (lease); a spare takes over within about one TTL (issue 9).
    leaseTtlMs: int(500).default(10_000),
    // guide §4 "Circuit Breaker Pattern": consecutive provider failures that open a queue's circuit,
    circuitFailureThreshold: int(1).default(5),
    // how long it stays open before the first trial job (issue 21: short, so a provider back after a
    // short outage is tried within seconds), doubled after each failed trial up to the maximum (the
    // longest the team waits after the provider is back; a failed trial costs one call),
    circuitCoolDownMs: int(100).default(5_000),
    circuitMaxCoolDownMs: int(100).default(10_000),
    // and how long that trial may run before the next job becomes the trial (> the Builder's 900 s).
    circuitTrialTimeoutMs: int(1000).default(1_200_000),
  })
  .prefault({});

// Issue 21 §2: finished runs leave Redis for the memory directory (one gzipped JSONL file per run,
// `<memoryDir>/archive/<runId>.jsonl.gz`), so Redis grows with the runs of a week, not of a year.
// 0 turns a rule off. The Scribe applies it (services/scribe/src/retention.ts).
const RetentionSchema = z
  .strictObject({
    // A finished run whose end is older than this is archived (7 days: the age BullMQ already
    // keeps a completed `runs` job, and the publish guards' TTL).
    runMaxAgeHours: num(0, 24 * 3650).default(168),
    // Beyond this many newest finished runs, older finished runs are archived whatever their age.
    keepRuns: int(0).default(0),
    // How often the leading Scribe looks, and how many runs one pass archives at most.
    checkSeconds: int(1).default(60),
    batch: int(1).default(20),
    // Run archives (and the run's memory folder) older than this are deleted from the memory
    // directory. Off by default: the archive is what the morning report reads.
    memoryDays: num(0, 36_500).default(0),
  })
  .prefault({});

// Issue 24: `nightshift plan` and the ETA of each queued and running run (status, dashboard, API).
const PlanSchema = z
  .strictObject({
    // The latest finished runs the forecast learns step times from (`plan --history`).
    historyRuns: int(1).default(20),
    // Simulated nights per `nightshift plan` (`--samples`); each is one possible night.
    samples: int(1).default(200),
    // Simulated nights per ETA: an ETA needs only the runs' ends (no what-ifs), and is recomputed
    // often, so fewer draws; p90 of 100 draws is the 90th of them.
    etaSamples: int(1).default(100),
    // Slot-free time of a step (tools, commands, git, bus hops) stretches by this fraction for each
    // other run under way at once: the runs share the machine's CPUs, and history is mostly of runs
    // measured alone. 0.08 was measured with 5 demo runs on the 2-core test machine
    // (docs/planning.md); 0 turns it off.
    loadStretch: num(0, 10).default(0.08),
    // How long one ETA forecast is reused by a reader (the dashboard, a client): with dozens of
    // runs and many readers it is computed at most once per this, however often it is read.
    etaCacheMs: int(0).default(5000),
  })
  .prefault({});

const ROLE_FORM = `one of ${ROLES.join(', ')}`;

export const ConfigSchema = z
  .strictObject({
    redis: RedisSchema,
    ollama: OllamaSchema,
    anthropic: AnthropicSchema,
    model: ModelSchema,
    role: z.enum(ROLES, { error: ROLE_FORM }).optional(),
    workspaceDir: z.string({ error: 'a directory path' }).min(1).default('./.nightshift/workspaces'),
    // Issue 18 §7: runs may name only folders under these; unset = WORKSPACE_DIR and the folder
    // `nightshift up` (or the CLI) was started in (workspaceRootsOf).
    workspaceRoots: stringList(z.string({ error: 'a directory path' }).min(1)).optional(),
    git: GitSchema,
    memoryDir: z.string({ error: 'a directory path' }).min(1).default('./.nightshift/memory'),
    logLevel: z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    roles: RolesSchema,
    subagents: SubagentsSchema,
    tools: ToolsSchema,
    trust: TrustSchema,
    debate: DebateSchema,
    workflow: WorkflowSchema,
    detection: DetectionSchema,
    escalation: EscalationSchema,
    queues: QueuesSchema,
    heartbeat: HeartbeatSchema,
    dashboard: DashboardSchema,
    alerts: AlertsSchema,
    health: HealthSchema,
    director: DirectorSchema,
    scribe: ScribeSchema,
    sentinel: SentinelSchema,
    retention: RetentionSchema,
    plan: PlanSchema,
  })
  // Spreading `c` first keeps the key order of the schema in the output (readable describeConfig).
  .transform((c) => ({
    ...c,
    anthropic: { ...c.anthropic, timeoutMs: c.anthropic.timeoutMs ?? c.roles.director.timeoutSeconds * 1000 },
  }));

/** What a config file may contain (every key optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The validated, defaulted configuration every service receives. */
export type Config = z.output<typeof ConfigSchema>;
export type RedisConfig = Config['redis'];
export type RetentionConfig = Config['retention'];
export type OllamaConfig = Config['ollama'];
export type AnthropicConfig = Config['anthropic'];
