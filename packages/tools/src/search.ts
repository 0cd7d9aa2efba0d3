// search_files: a regex over the workspace's text files, in a worker thread with a deadline.
// A model-written regex can backtrack for hours (`(a+)+$`); running it on the agent's own event loop
// would stall its heartbeats and jobs, so it runs in a worker that is terminated at the deadline.
import { Worker } from 'node:worker_threads';
import { TimeoutError } from '@nightshift/protocol';
import { z } from 'zod';
import { SKIPPED_DIRS } from './listing.js';
import { resolveInside } from './sandbox.js';
import { type SearchInput, type SearchOutput, searchTree } from './search-worker.js';
import { defineTool } from './tool.js';

export const SEARCH_DEFAULT_RESULTS = 100;
export const SEARCH_MAX_RESULTS = 1000;
/** Upper bound on one search; the context's timeoutMs lowers it. */
export const SEARCH_TIMEOUT_MS = 10_000;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_LINE_CHARS = 2000;

const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const searchTree = ${searchTree.toString()};
try {
  parentPort.postMessage({ ok: true, value: searchTree(workerData, { fs, path }) });
} catch (error) {
  parentPort.postMessage({ ok: false, code: error && error.code, message: String(error && error.message) });
}`;

type WorkerReply = { ok: true; value: SearchOutput } | { ok: false; code?: string; message: string };

export function runSearch(
  input: SearchInput,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SearchOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: input,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      action();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => finish(() => reject(new TimeoutError('search_files', timeoutMs))),
      timeoutMs,
    );
    const onAbort = (): void => finish(() => reject(new TimeoutError('search_files (aborted)', timeoutMs)));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: WorkerReply) =>
      finish(() => {
        if (reply.ok) resolve(reply.value);
        else
          reject(
            Object.assign(new Error(reply.message), reply.code === undefined ? {} : { code: reply.code }),
          );
      }),
    );
    worker.once('error', (error) => finish(() => reject(error)));
    worker.once('exit', (code) => finish(() => reject(new Error(`search worker exited with code ${code}`))));
  });
}

export const searchFilesTool = defineTool({
  name: 'search_files',
  description:
    'Search workspace text files for a JavaScript regular expression, line by line. ' +
    'Returns "path:line: text" lines; skips .git, node_modules, binary and large files.',
  parameters: z.object({
    pattern: z
      .string()
      .min(1)
      .max(1000)
      .refine(isValidRegex, { message: 'a valid JavaScript regular expression' })
      .describe('JavaScript regular expression (no slashes or flags)'),
    path: z.string().min(1).optional().describe('Directory or file to search; default the workspace root'),
    maxResults: z.number().int().min(1).max(SEARCH_MAX_RESULTS).optional(),
  }),
  async execute(args, ctx) {
    const start = await resolveInside(ctx.workspaceRoot, args.path ?? '.', 'read');
    const result = await runSearch(
      {
        root: start.root,
        start: start.absolute,
        pattern: args.pattern,
        maxResults: args.maxResults ?? SEARCH_DEFAULT_RESULTS,
        outputCapBytes: ctx.outputCapBytes,
        maxFileBytes: MAX_FILE_BYTES,
        maxLineChars: MAX_LINE_CHARS,
        skippedDirs: [...SKIPPED_DIRS],
      },
      Math.min(SEARCH_TIMEOUT_MS, ctx.timeoutMs),
      ctx.signal,
    );
    const note = result.truncated ? `\n[… more matches not shown (limit reached)]` : '';
    const output =
      result.lines.length === 0
        ? `no matches in ${result.filesScanned} files`
        : result.lines.join('\n') + note;
    return { output, data: result };
  },
});

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch (error) {
    if (error instanceof SyntaxError) return false;
    throw error;
  }
}
