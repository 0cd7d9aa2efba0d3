// The tools of one request: what the role's model is offered, how a call runs (permission check,
// the run's workspace, the sandbox), and the milestone commit of what the role changed.
import type { ToolOutcome, ToolSpec } from '@nightshift/llm';
import type { Message, Role, WorkerRole } from '@nightshift/protocol';
import type { Bus } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import {
  type CommitResult,
  commitAll,
  executeToolCall,
  fetchRunBranch,
  type HostEnv,
  isToolPermitted,
  type PushTarget,
  pushRunBranch,
  type Refusal,
  type SandboxSettings,
  type ToolContext,
  type ToolError,
  toolError,
  toolsForRole,
} from '@nightshift/tools';
import { askScout } from './ask-scout.js';
import { type CheckoutSettings, type RunWorkspace, resolveRunWorkspace } from './workspace.js';

/** The tool settings of an agent process (config.tools, config.roles[*].tools, directories). */
export interface AgentToolOptions {
  /** WORKSPACE_DIR: every run's checkout is `<workspaceDir>/<runId>` (issue 18). */
  workspaceDir: string;
  /** Workspace roots, branch prefix and commit identity (config.workspaceRoots, config.git). */
  checkout: Omit<CheckoutSettings, 'workspaceDir' | 'host'>;
  memoryDir?: string | undefined;
  /** config.tools.commandAllowlist. */
  allowlist: readonly string[];
  /** config.tools.commandTimeoutMs: one run_command / git call. */
  commandTimeoutMs: number;
  outputCapBytes: number;
  /** config.tools.deny: wins over every role's row (guide §7: gateway, cron). */
  deny: readonly string[];
  /** config.roles[role].tools for every role. */
  toolsByRole?: Partial<Record<Role, readonly string[]>> | undefined;
  /** config.tools.maxToolIterations. */
  maxIterations: number;
  /** config.tools.contextBudgetChars: an upper cap on the budget derived from the window. */
  contextBudgetChars: number;
  /**
   * The worker model's window (config.ollama numCtx / numPredict). When set, the tool loop's budget
   * is derived from it in tokens (llm contextBudgetChars), so a conversation inside it reaches
   * Ollama whole (issue 20).
   */
  window?: { numCtx: number; numPredict: number } | undefined;
  /** How long ask_scout waits for Scout; unset = ask_scout is not offered. */
  scoutTimeoutMs?: number | undefined;
  /** Tool calls reported one STATUS each per request; the rest are summed up (default 20). */
  maxStatusPerRequest?: number | undefined;
  /** The host's PATH and LANG for commands and git (read by main.ts). */
  host?: HostEnv | undefined;
  /**
   * NIGHTSHIFT_GIT_PUSH_REMOTE and the operator's credentials (read by main.ts): the run's branch
   * is pushed there after each milestone's fetch-back. Unset = never pushed.
   */
  push?: PushTarget | undefined;
  /** config.tools.sandbox: the OS sandbox around commands and git (default on). */
  sandbox?: SandboxSettings | undefined;
}

/** Tools that change the workspace: a successful one makes the request end with a commit. */
const WRITES = new Set(['write_file', 'edit_file']);

export interface ToolSession {
  readonly specs: ToolSpec[];
  execute(call: { name: string; arguments: unknown }): Promise<ToolOutcome>;
  /** True once a write tool succeeded. */
  readonly changed: boolean;
  /** Workspace paths the write tools changed, in first-write order (what the model did, not claims). */
  readonly written: readonly string[];
  /**
   * Commits everything in the run's checkout on its branch, with the run id in the message, and
   * fetches the branch back into the user's repository; undefined when never resolved.
   */
  commit(message: string): Promise<CommitResult | undefined>;
}

export interface ToolSessionOptions {
  role: WorkerRole;
  request: Message;
  bus: Pick<Bus, 'publish' | 'readLog' | 'tailLog' | 'redis' | 'keys'>;
  tools: AgentToolOptions;
  logger: Logger;
  signal: AbortSignal;
  onRefusal?: ((refusal: Refusal) => void) | undefined;
  /** A command or git call could not start its sandbox (issue 17 §3: the agent raises an ALERT). */
  onSandboxUnavailable?: ((error: ToolError) => void) | undefined;
}

export function openToolSession(o: ToolSessionOptions): ToolSession {
  const { role, request, tools, logger } = o;
  const permissions = { toolsByRole: tools.toolsByRole, deny: tools.deny };
  const ask: ToolContext['askScout'] =
    tools.scoutTimeoutMs === undefined
      ? undefined
      : (question) =>
          askScout(question, {
            bus: o.bus,
            role,
            request,
            timeoutMs: tools.scoutTimeoutMs ?? 0,
            signal: o.signal,
          });
  const offered = toolsForRole(role, { ...permissions, memoryDir: tools.memoryDir, askScout: ask });
  const specs: ToolSpec[] = offered.map((t) => ({
    name: t.name,
    description: t.description,
    parameters: t.jsonSchema,
  }));
  const settings: CheckoutSettings = {
    ...tools.checkout,
    workspaceDir: tools.workspaceDir,
    host: tools.host,
  };
  let workspace: Promise<RunWorkspace> | undefined;
  const resolve = (): Promise<RunWorkspace> => {
    workspace ??= (async () => {
      const ws = await resolveRunWorkspace(o.bus.redis, o.bus.keys, settings, request.runId);
      logger.info(
        { workspace: ws.root, branch: ws.checkout.branch, source: ws.source },
        'workspace resolved (the run checkout)',
      );
      return ws;
    })();
    // A failure is not cached: the next call tries again.
    workspace.catch(() => {
      workspace = undefined;
    });
    return workspace;
  };
  const gitIdentity = tools.checkout.identity;

  let changed = false;
  const written: string[] = [];
  const onRefusal = (refusal: Refusal): void => {
    logger.warn({ refusal }, `tool refused: ${refusal.reason}`);
    o.onRefusal?.(refusal);
  };

  return {
    specs,
    get changed() {
      return changed;
    },
    get written() {
      return written;
    },
    async execute(call) {
      // A refused call never needs (or creates) the workspace: executeToolCall refuses it first.
      let root = '';
      if (isToolPermitted(role, call.name, permissions)) {
        try {
          root = (await resolve()).root;
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          logger.error({ err: error, runId: request.runId }, 'the run workspace is unavailable');
          return toolError('WORKSPACE_UNAVAILABLE', `the run's workspace is unavailable: ${why}`);
        }
      }
      const checkout = root === '' ? undefined : (await resolve()).checkout;
      const result = await executeToolCall(call, {
        role,
        runId: request.runId,
        workspaceRoot: root,
        git: checkout && { root: checkout.path, branch: checkout.branch, identity: gitIdentity },
        memoryDir: tools.memoryDir,
        allowlist: tools.allowlist,
        timeoutMs: tools.commandTimeoutMs,
        outputCapBytes: tools.outputCapBytes,
        deny: tools.deny,
        toolsByRole: tools.toolsByRole,
        askScout: ask,
        onRefusal,
        signal: o.signal,
        host: tools.host,
        sandbox: tools.sandbox,
      });
      if (!result.ok && result.error.code === 'SANDBOX_UNAVAILABLE') o.onSandboxUnavailable?.(result.error);
      if (result.ok && WRITES.has(call.name)) {
        changed = true;
        const path = (call.arguments as { path?: unknown } | null)?.path;
        if (typeof path === 'string' && !written.includes(path)) written.push(path);
      }
      return result.ok ? { ok: true, output: result.output } : { ok: false, error: result.error };
    },
    async commit(message) {
      if (workspace === undefined) return undefined;
      const { checkout } = await workspace;
      const result = await commitAll(checkout.path, request.runId, message, {
        timeoutMs: tools.commandTimeoutMs,
        host: tools.host,
        sandbox: tools.sandbox,
        branch: checkout.branch,
        identity: gitIdentity,
      });
      // Issue 18 §1: the branch appears in the user's repository after each milestone commit.
      // Also when nothing new was committed: a crash may have come between commit and fetch.
      const fetched = await fetchRunBranch(checkout, { host: tools.host }).catch((err: unknown) => {
        logger.warn({ err, branch: checkout.branch }, 'could not fetch the run branch into the repository');
        return false;
      });
      // Issue 18 §2: pushed only where the operator named a remote; a refusal (the remote moved,
      // no credentials) is logged and never fails the step: the branch is safe in the repository.
      if (fetched && tools.push) {
        const { remote } = tools.push;
        await pushRunBranch(checkout, tools.push, { host: tools.host }).then(
          () => logger.info({ branch: checkout.branch, remote }, 'run branch pushed'),
          (err: unknown) =>
            logger.warn({ err, branch: checkout.branch, remote }, 'could not push the run branch'),
        );
      }
      return result;
    },
  };
}

/** The milestone commit after a role changed files (guide: commits at milestones, with the run id). */
/** `build i1` from a Director request id `req_<runId>_<step>_i<n>_a<n>`; undefined for other ids. */
export function stepOf(runId: string, requestId: string): string | undefined {
  const prefix = `req_${runId}_`;
  if (!requestId.startsWith(prefix)) return undefined;
  const match = /^([a-z][a-z0-9-]*)_i(\d+)_a\d+$/.exec(requestId.slice(prefix.length));
  return match ? `${match[1]} i${match[2]}` : undefined;
}

export async function commitChanges(
  session: ToolSession | undefined,
  role: WorkerRole,
  request: Pick<Message, 'runId' | 'id'>,
  stoppedAtCap: boolean,
  content: string,
  log: Logger,
): Promise<string | undefined> {
  if (!session?.changed) return undefined;
  const { runId, id: requestId } = request;
  const firstLine = (content.split('\n').find((l) => l.trim() !== '') ?? 'changes').trim().slice(0, 120);
  // Issue 18 §2: every milestone commit names its run (commitMessage), step and role.
  const step = stepOf(runId, requestId);
  const who = step === undefined ? role : `${step} · ${role}`;
  const message = stoppedAtCap ? `${who}: unfinished work (tool loop hit its cap)` : `${who}: ${firstLine}`;
  try {
    const result = await session.commit(message);
    if (result?.committed) {
      log.info({ sha: result.sha, message: result.message }, 'committed the changes');
      return `${result.sha?.slice(0, 12) ?? ''} ${result.message}`.trim();
    }
    return undefined;
  } catch (error) {
    // The work is done and on disk; a failed commit is worth a warning, not a failed request.
    log.warn({ err: error }, 'could not commit the changes');
    return undefined;
  }
}
