// @nightshift/tools: workspace-sandboxed agent tools, the command allowlist, git, and per-role permissions.

export {
  DEFAULT_SANDBOX_LIMITS,
  SANDBOX_HOME,
  type SandboxLimits,
} from './bwrap.js';
export {
  type CommandResult,
  checkCommand,
  DEFAULT_COMMAND_ALLOWLIST,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_OUTPUT_CAP_BYTES,
  formatCommandResult,
  matchAllowlist,
  type RunCommandOptions,
  runCommand,
  runCommandTool,
} from './command.js';
export { executeToolCall, type ToolCall } from './execute.js';
export { MAX_EDIT_BYTES } from './file-io.js';
export { editFileTool, MAX_WRITE_CHARS, readFileTool, writeFileTool } from './file-tools.js';
export {
  type CommitOptions,
  type CommitResult,
  commitAll,
  commitMessage,
  ensureGitRepo,
  GIT_IDENTITY,
  type GitOptions,
  gitDiff,
  gitDiffStat,
  gitStatus,
  gitTool,
} from './git.js';
export { type HostGitOptions, hostGit, type OperatorCredentials, repositoryOf } from './host-git.js';
export {
  CHECKOUT_BUILD_MAX_AGE_MS,
  hostTag,
  type LeftoverKind,
  type LeftoverOwner,
  leftoverVerdict,
  parseLeftover,
  SANDBOX_HOME_MAX_AGE_MS,
  type SweepOptions,
  type SweepResult,
  type SweepSelf,
  sweepAtStart,
  sweepLeftovers,
} from './leftovers.js';
export { listFilesTool, MAX_LIST_ENTRIES } from './listing.js';
export { writeMemoryTool } from './memory.js';
export {
  DEFAULT_TOOL_DENY,
  isToolName,
  isToolPermitted,
  type PermissionOptions,
  permittedTools,
  TOOL_NAMES,
  TOOLS_BY_ROLE,
  type ToolName,
} from './permissions.js';
export { cleanEnv, type HostEnv, type ProcessResult } from './process.js';
export { getTool, type OfferOptions, TOOLS, toolsForRole } from './registry.js';
export { askScoutTool, webSearchTool } from './remote-tools.js';
export {
  TOOL_ERROR_CODES,
  type ToolError,
  type ToolErrorCode,
  ToolFailure,
  type ToolOutput,
  type ToolResult,
  ToolUnavailable,
  toolError,
  toolOk,
} from './result.js';
export {
  type BranchCommit,
  type BranchReport,
  deleteRunBranch,
  describeRunBranch,
  fetchRunBranch,
  type PushTarget,
  pushRunBranch,
  removeCheckout,
} from './run-branch.js';
export {
  type CheckoutOptions,
  checkoutPathOf,
  planCheckout,
  prepareRunCheckout,
  readCheckoutRecord,
  runBranchName,
} from './run-checkout.js';
export {
  type ConfinedOptions,
  type ConfinedResult,
  probeSandbox,
  processLimitMechanism,
  runConfined,
  SANDBOX_FIX,
  SANDBOX_MODES,
  type SandboxMode,
  type SandboxReport,
  type SandboxSettings,
} from './runner.js';
export {
  type Access,
  MAX_COMPONENT_BYTES,
  MAX_PATH_BYTES,
  type ResolvedPath,
  resolveInside,
  SANDBOX_RULES,
  type SandboxRule,
} from './sandbox.js';
export { SEARCH_MAX_RESULTS, SEARCH_TIMEOUT_MS, searchFilesTool } from './search.js';
export {
  defineTool,
  type JsonSchemaProperty,
  type ObjectJsonSchema,
  type Refusal,
  type Tool,
  type ToolContext,
  type ToolDefinition,
  toAnthropicTools,
  toOllamaTools,
} from './tool.js';
export { assertSafeRunId, memoryDirForRun, workspaceForRun } from './workspace.js';
export { type AllowedWorkspace, checkWorkspaceRoots, isInside } from './workspace-roots.js';
