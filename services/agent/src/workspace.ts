// Which folder a run works in (issue 18): the run's own checkout, recorded in its run.created
// event by the Director, which prepared it when it took the run. The agent checks it again: the
// requested folder must still be under the workspace roots and the checkout must be one of ours
// (under WORKSPACE_DIR). A run.created without a checkout (written before issue 18) gets one now,
// the same way and idempotently, so no role ever works in the user's own tree.
import * as path from 'node:path';
import { type RunCheckout, RunCheckoutSchema, ValidationError } from '@nightshift/protocol';
import { createRunStore, type Keys, type RedisClient } from '@nightshift/redis';
import {
  checkoutPathOf,
  checkWorkspaceRoots,
  type HostEnv,
  isInside,
  prepareRunCheckout,
  readCheckoutRecord,
} from '@nightshift/tools';

export interface RunWorkspace {
  /** The run's working directory: the checkout, or the subfolder of it the run named. */
  root: string;
  checkout: RunCheckout;
  /** `run` = named by run.created; `default` = an empty workspace of its own. */
  source: 'run' | 'default';
}

/** How this deployment places checkouts (config.workspaceDir, workspaceRoots, git). */
export interface CheckoutSettings {
  workspaceDir: string;
  roots: readonly string[];
  branchPrefix: string;
  identity: { name: string; email: string };
  host?: HostEnv | undefined;
}

interface CreatedFields {
  workspace?: string;
  base?: string;
  checkout?: RunCheckout;
}

/** The workspace, base and checkout named by the run's first event, if any. */
export async function createdFields(redis: RedisClient, keys: Keys, runId: string): Promise<CreatedFields> {
  const first = (await createRunStore(redis, keys).read(runId))[0]?.event;
  if (typeof first !== 'object' || first === null) return {};
  const e = first as { type?: unknown; workspace?: unknown; base?: unknown; checkout?: unknown };
  if (e.type !== 'run.created') return {};
  const checkout = RunCheckoutSchema.safeParse(e.checkout);
  return {
    ...(typeof e.workspace === 'string' && e.workspace !== '' ? { workspace: e.workspace } : {}),
    ...(typeof e.base === 'string' && e.base !== '' ? { base: e.base } : {}),
    ...(checkout.success ? { checkout: checkout.data } : {}),
  };
}

export async function resolveRunWorkspace(
  redis: RedisClient,
  keys: Keys,
  settings: CheckoutSettings,
  runId: string,
): Promise<RunWorkspace> {
  const fields = await createdFields(redis, keys, runId);
  const source = fields.workspace === undefined ? 'default' : 'run';
  // Again when an agent takes it (issue 18 §7): a folder the roots no longer allow is refused.
  if (fields.workspace !== undefined)
    await checkWorkspaceRoots(fields.workspace, settings.roots, settings.workspaceDir);
  const checkout =
    fields.checkout ??
    (await prepareRunCheckout({
      runId,
      workspaceDir: settings.workspaceDir,
      requested: fields.workspace,
      base: fields.base,
      roots: settings.roots,
      branchPrefix: settings.branchPrefix,
      identity: settings.identity,
      git: { host: settings.host },
    }));
  const expected = checkoutPathOf(settings.workspaceDir, runId);
  const unavailable = (why: string) =>
    new ValidationError('workspace', [{ path: 'checkout', expected: why, received: checkout.path }]);
  if (path.resolve(checkout.path) !== expected || !isInside(checkout.path, checkout.cwd))
    throw unavailable(`the run's checkout ${expected}`);
  const onDisk = await readCheckoutRecord(checkout.path);
  if (onDisk?.branch !== checkout.branch)
    throw unavailable('a checkout still on disk (discarded or pruned after the run ended?)');
  return { root: checkout.cwd, checkout, source };
}
