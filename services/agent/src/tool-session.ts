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
  type HostEnv,
  isToolPermitted,
  permittedTools,
  type Refusal,
  type SandboxSettings,
  type ToolContext,
  type ToolError,
  toolError,
  toolsForRole,
} from '@nightshift/tools';
import { askScout } from './ask-scout.js';
import { prepareGitWorkspace, type RunWorkspace, resolveRunWorkspace } from './workspace.js';

/** The tool settings of an agent process (config.tools, config.roles[*].tools, directories). */
export interface AgentToolOptions {
  /** WORKSPACE_DIR: a run without a named workspace works in `<workspaceDir>/<runId>`. */
  workspaceDir: string;
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
  /** Commits everything in the workspace with the run id in the message; undefined when never resolved. */
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
  // A role that may change files gets a git repository (and a baseline) before its first call.
  const writes = permittedTools(role, permissions).some((t) => WRITES.has(t) || t === 'git');

  let workspace: Promise<RunWorkspace> | undefined;
  const resolve = (): Promise<RunWorkspace> => {
    workspace ??= (async () => {
      const ws = await resolveRunWorkspace(o.bus.redis, o.bus.keys, tools.workspaceDir, request.runId);
      if (writes) {
        // Without git the tools still work; only the milestone commit is lost, so warn and go on.
        await prepareGitWorkspace(ws.root, request.runId, {
          timeoutMs: tools.commandTimeoutMs,
          host: tools.host,
          sandbox: tools.sandbox,
        }).then(
          (git) =>
            git.created && logger.info({ workspace: ws.root, ...git }, 'workspace made a git repository'),
          (err: unknown) =>
            logger.warn({ err, workspace: ws.root }, 'could not prepare git in the workspace'),
        );
      }
      logger.info({ workspace: ws.root, source: ws.source }, 'workspace resolved');
      return ws;
    })();
    return workspace;
  };

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
      const result = await executeToolCall(call, {
        role,
        runId: request.runId,
        workspaceRoot: root,
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
      const { root } = await workspace;
      return commitAll(root, request.runId, message, {
        timeoutMs: tools.commandTimeoutMs,
        host: tools.host,
        sandbox: tools.sandbox,
      });
    },
  };
}

/** The milestone commit after a role changed files (guide: commits at milestones, with the run id). */
export async function commitChanges(
  session: ToolSession | undefined,
  role: WorkerRole,
  stoppedAtCap: boolean,
  content: string,
  log: Logger,
): Promise<string | undefined> {
  if (!session?.changed) return undefined;
  const firstLine = (content.split('\n').find((l) => l.trim() !== '') ?? 'changes').trim().slice(0, 120);
  const message = stoppedAtCap ? `${role}: unfinished work (tool loop hit its cap)` : `${role}: ${firstLine}`;
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
