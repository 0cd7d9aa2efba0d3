// The tool contract shared by both model providers: a zod schema, its JSON Schema, and a run() that never throws.
import { realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { problemsFrom, type Role } from '@nightshift/protocol';
import { z } from 'zod';
import type { HostEnv } from './process.js';
import { errorToResult, type ToolOutput, type ToolResult, toolError, toolOk } from './result.js';
import type { SandboxSettings } from './runner.js';

/** A permission or sandbox refusal, reported so the caller can log and count it (issue 6 §2). */
export interface Refusal {
  kind: 'permission' | 'sandbox';
  role: Role;
  tool: string;
  reason: string;
  runId: string;
}

/** Everything a tool may touch, injected by the agent service; nothing is read from process.env. */
export interface ToolContext {
  role: Role;
  runId: string;
  /** The run's workspace (see workspaceForRun); every file tool is confined to it. */
  workspaceRoot: string;
  /**
   * The run's checkout (issue 18): its root (the workspace or a folder above it), its branch and
   * the commit identity. Absent = the workspace is made a repository of its own.
   */
  git?: { root: string; branch: string; identity?: { name: string; email: string } | undefined } | undefined;
  /** Root of the memory directory; write_memory writes under `<memoryDir>/<runId>`. */
  memoryDir?: string | undefined;
  /** Command prefixes run_command accepts, e.g. `npm test` (config `tools.commandAllowlist`). */
  allowlist: readonly string[];
  /** Deadline of one run_command / git call. */
  timeoutMs: number;
  /** Cap on each output stream, file read and search result, in bytes. */
  outputCapBytes: number;
  /** Tools no role may use, whatever the table says (guide §7: gateway, cron). */
  deny: readonly string[];
  /** Overrides of the role → tools table (config); the deny list still wins. */
  toolsByRole?: Partial<Record<Role, readonly string[]>> | undefined;
  /** Sends a REQUEST to Scout and awaits its answer (with its own timeout). */
  askScout?: ((question: string, ctx: ToolContext) => Promise<string>) | undefined;
  /** A web search provider; none is built in, so web_search is off unless one is injected. */
  webSearch?: ((query: string, ctx: ToolContext) => Promise<string>) | undefined;
  onRefusal?: ((refusal: Refusal) => void) | undefined;
  /** Aborts a running command or search (e.g. the role's own timeout). */
  signal?: AbortSignal | undefined;
  /** The host's PATH and LANG for run_command's child (injected, never read here). */
  host?: HostEnv | undefined;
  /** The OS sandbox around run_command and git (config tools.sandbox; default on). */
  sandbox?: SandboxSettings | undefined;
}

/** JSON Schema of one property, loose enough to be both providers' parameter shape. */
export interface JsonSchemaProperty {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  items?: unknown;
  [keyword: string]: unknown;
}

export interface ObjectJsonSchema {
  type: 'object';
  properties: Record<string, JsonSchemaProperty>;
  required?: string[];
  [keyword: string]: unknown;
}

export interface Tool<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly parameters: S;
  readonly jsonSchema: ObjectJsonSchema;
  /** Validates `args` against `parameters`, runs, and returns a result; never rejects. */
  run(args: unknown, ctx: ToolContext): Promise<ToolResult>;
}

export interface ToolDefinition<S extends z.ZodType> {
  name: string;
  description: string;
  parameters: S;
  execute(args: z.output<S>, ctx: ToolContext): Promise<ToolOutput>;
}

export function defineTool<S extends z.ZodType>(definition: ToolDefinition<S>): Tool<S> {
  const jsonSchema = objectJsonSchema(definition.name, definition.parameters);
  return {
    name: definition.name,
    description: definition.description,
    parameters: definition.parameters,
    jsonSchema,
    async run(args, ctx) {
      const parsed = definition.parameters.safeParse(args ?? {});
      if (!parsed.success) {
        const list = problemsFrom(parsed.error).map((p) => `${p.path || '(arguments)'}: ${p.expected}`);
        return toolError('INVALID_ARGUMENTS', `invalid arguments for ${definition.name}: ${list.join('; ')}`);
      }
      try {
        const out = await definition.execute(parsed.data, ctx);
        return toolOk(out.output, out.data);
      } catch (error) {
        return errorToResult(error, await hostRoots(ctx));
      }
    },
  };
}

/** The roots as given and as real paths: fs errors name real paths, which must not reach the model. */
async function hostRoots(ctx: ToolContext): Promise<string[]> {
  const given = [path.resolve(ctx.workspaceRoot)];
  if (ctx.memoryDir !== undefined) given.push(path.resolve(ctx.memoryDir));
  const real = await Promise.all(
    given.map((root) =>
      realpath(root).then(
        (resolved) => resolved,
        () => root, // a missing root has no other spelling
      ),
    ),
  );
  return [...new Set([...given, ...real])];
}

function objectJsonSchema(name: string, schema: z.ZodType): ObjectJsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
  if (rest.type !== 'object' || typeof rest.properties !== 'object' || rest.properties === null) {
    throw new TypeError(`tool ${name}: parameters must be a zod object schema`);
  }
  return rest as ObjectJsonSchema;
}

/** Ollama's `tools` array (`/api/chat`). */
export function toOllamaTools(tools: readonly Tool[]): Array<{
  type: 'function';
  function: { name: string; description: string; parameters: ObjectJsonSchema };
}> {
  return tools.map((t) => ({
    type: 'function' as const,
    function: { name: t.name, description: t.description, parameters: t.jsonSchema },
  }));
}

/** Anthropic's `tools` array (`messages.create`). */
export function toAnthropicTools(
  tools: readonly Tool[],
): Array<{ name: string; description: string; input_schema: ObjectJsonSchema }> {
  return tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.jsonSchema }));
}
