// The one front door for steering and watching Nightshift, shared by the CLI and the dashboard:
// `createControl(parts)` over existing connections, or `openControl(options)` that owns its own.
import type { HumanDecision } from '@nightshift/core';
import { type RunInput, RunInputSchema, validate } from '@nightshift/protocol';
import {
  type Bus,
  type BusOptions,
  createBus,
  createKeys,
  createRunStore,
  enqueueRun,
  type Keys,
  openRunArchive,
  type RedisClient,
} from '@nightshift/redis';
import { type BranchReport, describeRunBranch, planCheckout } from '@nightshift/tools';
import { Queue } from 'bullmq';
import {
  type ActionOptions,
  abortRun,
  decideRun,
  pauseRun,
  type RunActionResult,
  resumeRun,
} from './actions.js';
import { type AgentQueueResult, pauseAgent, resumeAgent } from './agents.js';
import { type AlertDecision, listOpenAlerts, type ResolveAlertResult, resolveAlert } from './alerts.js';
import { runNotFound } from './errors.js';
import { createEtaSource, ETA_DEFAULTS } from './eta.js';
import { type FollowOptions, type FollowResult, followRun, watchRun } from './follow.js';
import { type ControlParts, type EtaOptions, WORKSPACE_ROOTS_KEY, type WorkspacePolicy } from './parts.js';
import { detail, type LoadedRun, loadRun, readCheckpoints, recentRunIds, summarise } from './runs.js';
import type { AlertInfo, CheckpointInfo, EtaBoard, RunDetail, RunSummary, Status } from './schemas.js';
import { type StatusOptions, statusSnapshot } from './status.js';

/** Everything `getRun` reads about one run. */
export interface RunRecord {
  detail: RunDetail;
  /** Every readable event, in order. */
  events: LoadedRun['events'];
  unreadable: LoadedRun['unreadable'];
  checkpoints: CheckpointInfo[];
  /** Issue 18 §3: the run's branch, commits, diff stat and diff; null when it has none or is gone. */
  branch: BranchReport | null;
}

/**
 * The typed control plane: everything `nightshift` and the dashboard can do to or read from a deployment.
 * Refusals are NightshiftErrors with a code from {@link CONTROL_ERROR_CODES} (a missing run, an ended run, a write conflict).
 */
export interface Control {
  readonly parts: ControlParts;
  /** Validates with RunInputSchema and enqueues on `runs`; the run id is known at once. */
  startRun(input: unknown): Promise<{ jobId: string; runId: string }>;
  /** Runs in Redis, newest first (archived runs: archivedRuns). */
  listRuns(limit?: number): Promise<RunSummary[]>;
  /** Runs moved out of Redis (issue 21 §2), oldest archive first; getRun still reads each. */
  archivedRuns(): Promise<{ dir: string | null; runIds: string[] }>;
  /**
   * One run in full: detail, events, checkpoints and its branch.
   * @throws NightshiftError `RUN_NOT_FOUND` when there is no such run.
   */
  getRun(runId: string): Promise<RunRecord>;
  /** Pauses a run (event `run.paused` and a human DECISION on the bus); `changed: false` if it already was. */
  pauseRun(runId: string, options?: ActionOptions): Promise<RunActionResult>;
  /** Resumes a paused run; `changed: false` if it was not paused. */
  resumeRun(runId: string, options?: ActionOptions): Promise<RunActionResult>;
  /**
   * Aborts a run (a human `abort` decision).
   * @throws NightshiftError `RUN_ENDED` when the run has already ended.
   */
  abortRun(runId: string, options?: ActionOptions): Promise<RunActionResult>;
  /**
   * Answers a run waiting for a human: continue, revise (with a note), finish or abort.
   * @throws NightshiftError `RUN_NOT_WAITING` when the run does not wait for a human.
   */
  decide(runId: string, decision: HumanDecision, options?: ActionOptions): Promise<RunActionResult>;
  /**
   * Resolves an open alert and tells the Sentinel on the bus.
   * @throws NightshiftError `ALERT_NOT_FOUND` for an unknown alert id.
   */
  resolveAlert(alertId: string, decision: AlertDecision, note?: string): Promise<ResolveAlertResult>;
  /** Open alerts, newest first (at most `limit`, default 100). */
  openAlerts(limit?: number): Promise<AlertInfo[]>;
  /**
   * Pauses an agent's BullMQ queue: its workers take no new job.
   * @throws ValidationError on field `role` for a role without a queue.
   */
  pauseAgent(role: string): Promise<AgentQueueResult>;
  /** Resumes an agent's queue. */
  resumeAgent(role: string): Promise<AgentQueueResult>;
  /** The deployment at a glance ({@link Status}). */
  status(options?: StatusOptions): Promise<Status>;
  /**
   * Issue 24 §3: the ETA (p50/p90 end) of every queued and running run, re-forecast from where each
   * is; one forecast is shared for the configured cache time (ETA_CACHE_MS).
   */
  etas(): Promise<EtaBoard>;
  /** Calls `onChange` each time the run moves, until it ended, waits for a human, or `options.signal` stops it. */
  followRun(
    runId: string,
    onChange: (run: LoadedRun) => void,
    options?: FollowOptions,
  ): Promise<FollowResult>;
  /** The run's changes as an AsyncIterable; its return value says how the follow ended. */
  watchRun(runId: string, options?: FollowOptions): AsyncGenerator<LoadedRun, FollowResult>;
  /** Closes what `openControl` opened; a no-op for `createControl` (the owner closes its parts). */
  close(): Promise<void>;
}

/** A control layer over connections the caller owns (its `close` closes nothing of theirs). */
export function createControl(
  parts: ControlParts,
  close: () => Promise<void> = async () => undefined,
): Control {
  const etas = createEtaSource(parts, parts.eta ?? ETA_DEFAULTS);
  return {
    parts,
    async startRun(input) {
      const data: RunInput = validate(RunInputSchema, input, 'run');
      // Read-only: the roots, the folder, its repository and base are checked; nothing is written.
      if (parts.workspace)
        await planCheckout({
          workspaceDir: parts.workspace.dir,
          roots: await rootsFor(parts, parts.workspace),
          requested: data.workspace,
          base: data.base,
        });
      return enqueueRun(parts.url, data, { prefix: parts.keys.prefix });
    },
    async listRuns(limit = 50) {
      const ids = await recentRunIds(parts.redis, parts.keys, limit);
      const loaded = await Promise.all(ids.map((id) => loadRun(parts.store, id)));
      const board = await etas();
      return loaded.flatMap((run, i) =>
        run.state.runId === null ? [] : [summarise(run.state, ids[i] as string, board)],
      );
    },
    async archivedRuns() {
      if (!parts.archive) return { dir: null, runIds: [] };
      return { dir: parts.archive.dir, runIds: (await parts.archive.list()).map((a) => a.runId) };
    },
    async getRun(runId) {
      const run = await loadRun(parts.store, runId);
      if (run.state.runId === null) throw runNotFound(runId);
      const [checkpoints, board] = await Promise.all([readCheckpoints(parts, runId), etas()]);
      const branch = run.state.checkout
        ? await describeRunBranch(run.state.checkout).catch(() => undefined)
        : undefined;
      return {
        branch: branch ?? null,
        detail: detail(run, runId, checkpoints, board),
        events: run.events,
        unreadable: run.unreadable,
        checkpoints,
      };
    },
    pauseRun: (runId, options) => pauseRun(parts, runId, options),
    resumeRun: (runId, options) => resumeRun(parts, runId, options),
    abortRun: (runId, options) => abortRun(parts, runId, options),
    decide: (runId, decision, options) => decideRun(parts, runId, decision, options),
    resolveAlert: (alertId, decision, note) => resolveAlert(parts, alertId, decision, note),
    openAlerts: (limit) => listOpenAlerts(parts, limit),
    pauseAgent: (role) => pauseAgent(parts, role),
    resumeAgent: (role) => resumeAgent(parts, role),
    status: (options) => statusSnapshot(parts, options, etas),
    etas,
    followRun: (runId, onChange, options) => followRun(parts, runId, onChange, options),
    watchRun: (runId, options) => watchRun(parts, runId, options),
    close,
  };
}

/** How `openControl` connects: the Redis URL and key prefix, and who acts. */
export interface OpenControlOptions {
  url: string;
  prefix?: string;
  numParallel?: number;
  actor?: string;
  /** Connection errors (default: ignored here; the bus reports them to its own sink). */
  onError?: (error: Error) => void;
  /** e.g. `{ maxRetriesPerRequest: 1 }` for a one-shot command that should fail fast. */
  connection?: BusOptions['connection'];
  busOptions?: Pick<BusOptions, 'streamMaxLen' | 'maxDeliveries' | 'claimIdleMs'>;
  /** The clock of the actions' events and messages (default the system clock). */
  now?: () => Date;
  /** Issue 18 §7: check a run's workspace against these roots before enqueueing it. */
  workspace?: WorkspacePolicy;
  /** Issue 21 §2: the folder of run archives (runArchiveDir(MEMORY_DIR)); runs there read as usual. */
  archiveDir?: string;
  /** Issue 24 §3: history, draws and cache time of the ETAs (default: the config's defaults). */
  eta?: EtaOptions;
}

/** A control layer that owns its bus; the bus also serves bus:log reads (`readLog`, `tailLog`). */
export interface OpenedControl extends Control {
  readonly bus: Bus;
}

/** Opens one bus (its command connection serves the store, queues and reads) and owns it. */
export function openControl(options: OpenControlOptions): OpenedControl {
  const keys: Keys = createKeys(options.prefix ?? 'nightshift');
  const bus = createBus({
    url: options.url,
    keys,
    ...(options.busOptions ?? {}),
    ...(options.connection === undefined ? {} : { connection: options.connection }),
    onError: options.onError ?? (() => undefined),
  });
  const redis: RedisClient = bus.redis;
  const queues = new Map<string, Queue>();
  const archive = options.archiveDir === undefined ? undefined : openRunArchive(options.archiveDir, keys);
  const parts: ControlParts = {
    redis,
    keys,
    bus,
    store: createRunStore(redis, keys, { archive }),
    ...(archive ? { archive } : {}),
    url: options.url,
    numParallel: options.numParallel ?? 2,
    actor: options.actor ?? 'cli',
    now: options.now ?? (() => new Date()),
    ...(options.workspace ? { workspace: options.workspace } : {}),
    ...(options.eta ? { eta: options.eta } : {}),
    queue(name) {
      let queue = queues.get(name);
      if (!queue) {
        queue = new Queue(name, { connection: redis, prefix: keys.prefix });
        queue.on('error', options.onError ?? (() => undefined));
        queues.set(name, queue);
      }
      return queue;
    },
  };
  const control = createControl(parts, async () => {
    await Promise.allSettled([...queues.values()].map((q) => q.close()));
    queues.clear();
    await bus.close();
  });
  return { ...control, bus };
}

/** The roots a run's workspace is checked against before it is enqueued (issue 18 §7). */
async function rootsFor(parts: ControlParts, policy: WorkspacePolicy): Promise<readonly string[]> {
  if (!policy.preferDeployment) return policy.roots;
  const published = await parts.redis.get(parts.keys.custom(...WORKSPACE_ROOTS_KEY));
  if (published === null) return policy.roots;
  try {
    const roots: unknown = JSON.parse(published);
    if (Array.isArray(roots) && roots.every((r) => typeof r === 'string')) return roots as string[];
  } catch (error) {
    void error; // an unreadable record: fall back to this process's own roots
  }
  return policy.roots;
}
