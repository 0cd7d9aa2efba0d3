// The job a user enqueues to start a run (queue `runs`, job name `run`): the same schema for
// scripts, `nightshift run`, the typed client and `POST /api/runs`.
import { z } from 'zod';
import { PRIORITIES } from './message.js';

export const RunBudgetSchema = z.strictObject({
  maxTokens: z.int().positive().optional(),
  maxUsd: z.number().positive().optional(),
  maxHours: z.number().positive().optional(),
});

export const RunInputSchema = z.strictObject({
  task: z.string().trim().min(1, 'a non-empty task description').max(100_000),
  workspace: z.string().min(1).max(4096).optional(),
  /**
   * Issue 18: the commit the run's branch starts from when the workspace is in a git repository
   * (a branch, tag or sha of that repository); default its current HEAD.
   */
  base: z
    .string()
    .min(1)
    .max(256)
    .refine(
      (ref) => !ref.startsWith('-') && [...ref].every((c) => c > ' ' && c !== '\x7f'),
      'a branch, tag or commit of the workspace repository (no spaces, not starting with "-")',
    )
    .optional(),
  title: z.string().min(1).max(200).optional(),
  budget: RunBudgetSchema.optional(),
  priority: z.enum(PRIORITIES).optional(),
});
export type RunInput = z.infer<typeof RunInputSchema>;

/** What the `runs` job returns: the run goes on event-driven after the job completes. */
export interface RunJobResult {
  runId: string;
}

/**
 * Where a run works (issue 18): its own checkout under WORKSPACE_DIR, on its own branch. Written
 * into `run.created` by the Director when it takes the run; agents, the report and
 * `nightshift apply/discard` read it from there.
 */
export const RunCheckoutSchema = z.object({
  /** The checkout's root (a clone, or a new repository for a folder that was not in one). */
  path: z.string().min(1),
  /** The run's working directory: `path`, or the subfolder of it the workspace named. */
  cwd: z.string().min(1),
  branch: z.string().min(1),
  /** The commit the branch started from (full sha). */
  base: z.string().min(1),
  /** What the user asked for as the base (`HEAD` by default), for the report. */
  baseRef: z.string().min(1),
  /** The user's repository the branch is fetched back into; absent = the folder was copied. */
  repo: z.string().min(1).optional(),
});
export type RunCheckout = z.infer<typeof RunCheckoutSchema>;
