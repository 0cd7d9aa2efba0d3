// Queue `runs`: turns an enqueued task into a run (event `run.created`). The job returns
// `{ runId }` at once; the run itself goes on event-driven, outside this job.
import { fold, type RunEventDraft, stamp } from '@nightshift/core';
import {
  describeProblems,
  failureReason,
  NightshiftError,
  newId,
  problemsFrom,
  type RunCheckout,
  type RunInput,
  RunInputSchema,
  type RunJobResult,
} from '@nightshift/protocol';
import { type DeadLetterInput, deadLetterJobId, QUEUE_NAMES, type RunStore } from '@nightshift/redis';
import { type Job, UnrecoverableError } from 'bullmq';

export interface IntakeOptions {
  store: RunStore;
  /** Trust scores the run starts from (deployment-wide). */
  trust: () => Promise<Record<string, number>>;
  /** Called with the new run id, to start driving it. */
  onCreated: (runId: string) => void;
  /** Where a job that can never be a run goes, with its reason (the bus's `dead-letter`). */
  deadLetter?: (input: DeadLetterInput) => Promise<unknown>;
  /**
   * Issue 18: checks the workspace against the roots and prepares the run's own checkout and
   * branch (idempotent), before `run.created` is written. A ValidationError refuses the job.
   */
  prepareCheckout?: (input: RunInput, runId: string) => Promise<RunCheckout>;
  now?: () => Date;
}

/** Validates the job data; a bad job fails for good, naming each field and what was expected. */
export function parseRunInput(data: unknown): RunInput {
  const result = RunInputSchema.safeParse(data);
  if (result.success) return result.data;
  throw new UnrecoverableError(`invalid run job: ${describeProblems(problemsFrom(result.error))}`);
}

export function createIntake(options: IntakeOptions) {
  const now = options.now ?? (() => new Date());
  return async (job: Job): Promise<RunJobResult> => {
    // Failed for good (UnrecoverableError, visible in Bull Board) and kept in `dead-letter`,
    // like every other input that can never succeed.
    const refuse = async (reason: string): Promise<never> => {
      await options.deadLetter?.({
        source: QUEUE_NAMES.runs,
        reason,
        payload: job.data,
        deliveries: job.attemptsStarted,
        id: deadLetterJobId(QUEUE_NAMES.runs, job.id),
      });
      throw new UnrecoverableError(reason);
    };
    let input: RunInput;
    try {
      input = parseRunInput(job.data);
    } catch (error) {
      return refuse((error as Error).message);
    }
    // The run id is derived from the job id, so a retried job (a Director that died mid-job)
    // finds the run it already created instead of creating a second one.
    const runId =
      job.id && /^[A-Za-z0-9_.-]+$/.test(job.id) && !/^\d+$/.test(job.id) ? `run_${job.id}` : newId('run');
    const version = await options.store.version(runId);
    if (version === 0) {
      let checkout: RunCheckout | undefined;
      try {
        checkout = await options.prepareCheckout?.(input, runId);
      } catch (error) {
        // A workspace outside the roots, a missing folder, an unknown base: never a run.
        if (error instanceof NightshiftError && error.category === 'invalid-input')
          return refuse(failureReason(error));
        throw error;
      }
      const trust = await options.trust();
      const draft: RunEventDraft = {
        type: 'run.created',
        runId,
        task: input.task,
        ...(input.title ? { title: input.title } : {}),
        ...(input.workspace ? { workspace: input.workspace } : {}),
        ...(checkout ? { checkout } : {}),
        ...(input.budget ? { budget: input.budget } : {}),
        ...(Object.keys(trust).length > 0 ? { trust } : {}),
      };
      const event = stamp(draft, now().toISOString());
      fold([event]); // validates the draft before it is written
      await options.store.append(runId, 0, [event], now().getTime());
    }
    options.onCreated(runId);
    return { runId };
  };
}
