// What the control actions work with: one command connection, the key names, the bus (for the
// human DECISION that makes every action visible in bus:log), cached queues and the run store.
import type { Bus, Keys, RedisClient, RunArchive, RunStore } from '@nightshift/redis';
import type { Queue } from 'bullmq';

/** What the control actions work with: one command connection, the key names, the bus, cached queues and the run store. */
export interface ControlParts {
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly bus: Pick<Bus, 'publish'>;
  /** The run store; with `archive` it also reads runs moved out of Redis (issue 21 §2). */
  readonly store: RunStore;
  /** Where archived runs are (MEMORY_DIR/archive); absent = only runs in Redis are seen. */
  readonly archive?: RunArchive;
  /** A BullMQ queue by name (cached by the owner, on the shared non-blocking connection). */
  queue(name: string): Queue;
  /** Redis URL, for the typed `enqueueRun` client and blocking reads (`run --wait`). */
  readonly url: string;
  /** OLLAMA_NUM_PARALLEL: the LLM slot limit shown when the gateway has not set one yet. */
  readonly numParallel: number;
  /** Who acts, recorded in the DECISION's context: `cli`, `dashboard`, … */
  readonly actor: string;
  /** The clock of the actions' events and messages (a test passes a fixed one). */
  readonly now: () => Date;
  /**
   * Issue 18 §7: where runs may work. When set, startRun refuses a workspace outside the roots
   * (and an unknown base) before anything is enqueued; the Director checks again either way.
   */
  readonly workspace?: WorkspacePolicy;
  /** Issue 24 §3: how the ETAs are forecast and how long one is reused (default ETA_DEFAULTS). */
  readonly eta?: EtaOptions;
}

/** Where runs may work (issue 18 §7): the workspace folder and the roots a run's workspace must lie under. */
export interface WorkspacePolicy {
  /** WORKSPACE_DIR (relative workspaces resolve against it). */
  readonly dir: string;
  readonly roots: readonly string[];
  /**
   * WORKSPACE_ROOTS was not set here: use the roots the running Director published (the folder
   * `nightshift up` was started in may not be this one), `roots` only when none is published.
   */
  readonly preferDeployment?: boolean;
}

/** Issue 24 §3: how a reader forecasts the ETAs (packages/config `plan`). */
export interface EtaOptions {
  /** PLAN_HISTORY_RUNS: the latest finished runs learned from. */
  readonly historyRuns: number;
  /** ETA_SAMPLES: simulated nights per forecast. */
  readonly samples: number;
  /** ETA_CACHE_MS: how long one forecast is reused. */
  readonly cacheMs: number;
  /**
   * PLAN_LOAD_STRETCH: how much a step's slot-free time (tools, commands) stretches per other run
   * under way at once (0.08 = +8 %); default 0 (none).
   */
  readonly loadStretch?: number;
  /** Seed of the draws (the same position and history give the same ETA); default 1. */
  readonly seed?: number;
}

/** Where the Director publishes the workspace roots it enforces (a JSON array of paths). */
export const WORKSPACE_ROOTS_KEY = ['config', 'workspace-roots'] as const;
