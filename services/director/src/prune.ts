// Issue 18 §3: checkouts of ended runs are removed after CHECKOUT_RETENTION_HOURS; their branches
// are kept. Only a checkout whose branch is safe in the user's repository is removed: the branch
// is fetched back once more first, and a run on a copied folder (whose branch lives only in its
// checkout) keeps its checkout until `nightshift discard`.
import { readdir } from 'node:fs/promises';
import { fold, isTerminal, parseRunEvent } from '@nightshift/core';
import type { RunStore } from '@nightshift/redis';
import type { Logger, Service } from '@nightshift/runtime';
import {
  fetchRunBranch,
  type HostEnv,
  parseLeftover,
  removeCheckout,
  sweepAtStart,
  sweepLeftovers,
} from '@nightshift/tools';

export interface PrunerOptions {
  store: RunStore;
  workspaceDir: string;
  retentionMs: number;
  logger: Logger;
  host?: HostEnv | undefined;
  /** How often to look (default 10 minutes). */
  everyMs?: number;
  now?: () => number;
}

/** One pass: the run ids whose checkouts were removed. */
export async function pruneCheckouts(o: PrunerOptions): Promise<string[]> {
  const now = (o.now ?? Date.now)();
  const removed: string[] = [];
  for (const runId of await candidates(o)) {
    const state = fold((await o.store.read(runId)).map((e) => parseRunEvent(e.event)));
    const checkout = state.checkout;
    if (!checkout?.repo || !isTerminal(state.status) || state.lastEventAt === null) continue;
    if (Date.parse(state.lastEventAt) + o.retentionMs > now) continue;
    try {
      await fetchRunBranch(checkout, { host: o.host });
      if (await removeCheckout(checkout, o.workspaceDir)) removed.push(runId);
    } catch (err) {
      o.logger.warn({ err, runId }, 'could not prune the run checkout; kept');
    }
  }
  if (removed.length > 0) o.logger.info({ removed }, 'pruned checkouts of ended runs (branches kept)');
  await sweepBuilds(o.workspaceDir, o.logger, now);
  return removed;
}

/**
 * The runs in Redis, and the checkouts on disk of runs that are not (issue 21 §2: a run archived
 * out of Redis before its checkout's retention ended; the store reads it from its archive).
 */
async function candidates(o: PrunerOptions): Promise<string[]> {
  const listed = await o.store.list(10_000);
  const known = new Set(listed);
  let names: string[] = [];
  try {
    names = await readdir(o.workspaceDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return [
    ...listed,
    ...names.filter((n) => RUN_DIR_RE.test(n) && !parseLeftover('checkout-build', n) && !known.has(n)),
  ];
}

const RUN_DIR_RE = /^run_[A-Za-z0-9_.-]+$/;

/**
 * Checkouts half-built by a process killed mid-way (`<runId>.tmp-<host>-<pid>-<time>`, renamed into
 * place when complete): removed once their maker is known gone, or after an hour whatever its pid
 * says (leftovers.ts of @nightshift/tools: pid, process start time and age, never a link followed).
 */
export async function sweepBuilds(workspaceDir: string, logger: Logger, now?: number): Promise<string[]> {
  const { removed } = await sweepLeftovers({
    dir: workspaceDir,
    kind: 'checkout-build',
    ...(now === undefined ? {} : { now }),
  });
  if (removed.length > 0)
    logger.info({ dir: workspaceDir, removed }, 'removed checkouts left half-built by a killed process');
  return removed;
}

export class CheckoutPruner implements Service {
  readonly name = 'checkout-pruner';
  readonly #o: PrunerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: PrunerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    if (this.#timer) return;
    // Issue 21 §4: a Director killed mid-checkout (or mid git command) left a half-built checkout or
    // a command's HOME; the next one to start removes those of makers known gone, before any work.
    await sweepAtStart(this.#o.workspaceDir, this.#o.logger);
    this.#timer = setInterval(() => void this.#pass(), this.#o.everyMs ?? 600_000);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await pruneCheckouts(this.#o);
    } catch (err) {
      this.#o.logger.warn({ err }, 'checkout pruning failed');
    } finally {
      this.#running = false;
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
