// Which folder a run works in: the `workspace` of its run.created event (the authoritative
// record, written when the run was enqueued), else `<WORKSPACE_DIR>/<runId>`.
import { createRunStore, type Keys, type RedisClient } from '@nightshift/redis';
import { commitAll, ensureGitRepo, type GitOptions, workspaceForRun } from '@nightshift/tools';

export interface RunWorkspace {
  root: string;
  /** `run` = named by run.created; `default` = one folder per run under WORKSPACE_DIR. */
  source: 'run' | 'default';
}

/** The workspace named by the run's first event, if any. */
export async function requestedWorkspace(
  redis: RedisClient,
  keys: Keys,
  runId: string,
): Promise<string | undefined> {
  const first = (await createRunStore(redis, keys).read(runId))[0]?.event;
  if (typeof first !== 'object' || first === null) return undefined;
  const e = first as { type?: unknown; workspace?: unknown };
  return e.type === 'run.created' && typeof e.workspace === 'string' && e.workspace !== ''
    ? e.workspace
    : undefined;
}

export async function resolveRunWorkspace(
  redis: RedisClient,
  keys: Keys,
  workspaceDir: string,
  runId: string,
): Promise<RunWorkspace> {
  const requested = await requestedWorkspace(redis, keys, runId);
  const root = await workspaceForRun(workspaceDir, runId, requested);
  return { root, source: requested === undefined ? 'default' : 'run' };
}

/**
 * Makes the workspace a repository of its own; a new one gets a baseline commit of what was
 * there, so the role's own commit later shows only its changes (guide: commits at milestones,
 * each naming its run).
 */
export async function prepareGitWorkspace(
  root: string,
  runId: string,
  options: GitOptions & { timeoutMs: number },
): Promise<{ created: boolean; baseline?: string }> {
  const { created } = await ensureGitRepo(root, options);
  if (!created) return { created };
  const commit = await commitAll(root, runId, 'baseline: the workspace as the run found it', options);
  return commit.sha === undefined ? { created } : { created, baseline: commit.sha };
}
