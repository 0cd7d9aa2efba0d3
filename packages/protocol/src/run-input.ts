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
  title: z.string().min(1).max(200).optional(),
  budget: RunBudgetSchema.optional(),
  priority: z.enum(PRIORITIES).optional(),
});
export type RunInput = z.infer<typeof RunInputSchema>;

/** What the `runs` job returns: the run goes on event-driven after the job completes. */
export interface RunJobResult {
  runId: string;
}
