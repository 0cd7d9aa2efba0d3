// The one entry point the tool loop calls: permission check, argument parsing, run, refusal reporting.
import { isToolPermitted } from './permissions.js';
import { getTool } from './registry.js';
import { type ToolResult, toolError } from './result.js';
import type { Refusal, ToolContext } from './tool.js';

export interface ToolCall {
  name: string;
  /** An object (Ollama, Anthropic) or a JSON string (some OpenAI-style providers). */
  arguments: unknown;
}

function shown(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

function report(ctx: ToolContext, kind: Refusal['kind'], tool: string, reason: string): void {
  ctx.onRefusal?.({ kind, role: ctx.role, tool, reason, runId: ctx.runId });
}

/**
 * Executes one model tool call for `ctx.role` and returns a ToolResult; never rejects for anything
 * the model did. A tool outside the role's row, or on the deny list, is refused without running
 * ("run_command is not permitted for architect") and reported through ctx.onRefusal.
 */
export async function executeToolCall(call: ToolCall, ctx: ToolContext): Promise<ToolResult> {
  const name = typeof call.name === 'string' ? call.name : String(call.name);
  if (ctx.deny.includes(name)) {
    const message = `${shown(name)} is not permitted for ${ctx.role} (deny list)`;
    report(ctx, 'permission', name, message);
    return toolError('TOOL_NOT_PERMITTED', message);
  }
  if (!isToolPermitted(ctx.role, name, { toolsByRole: ctx.toolsByRole, deny: ctx.deny })) {
    const message = `${shown(name)} is not permitted for ${ctx.role}`;
    report(ctx, 'permission', name, message);
    return toolError('TOOL_NOT_PERMITTED', message);
  }
  const tool = getTool(name);
  if (tool === undefined) return toolError('UNKNOWN_TOOL', `unknown tool ${shown(name)}`);
  let args: unknown = call.arguments;
  if (typeof args === 'string') {
    try {
      args = args.trim() === '' ? {} : JSON.parse(args);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return toolError('INVALID_ARGUMENTS', `arguments for ${name} are not valid JSON: ${why}`);
    }
  }
  const result = await tool.run(args, ctx);
  if (!result.ok && result.error.code === 'SANDBOX_VIOLATION')
    report(ctx, 'sandbox', name, result.error.message);
  return result;
}
