// The workflow's steps as data: id, role, phase, and what each waits for (guide §2, §4 phases).

import type { Role } from '@nightshift/protocol';
import { z } from 'zod';
import { deepFreeze } from '../freeze.js';

/** The guide's four phases: 1 Planning, 2 Execution, 3 Review, 4 Iterate. */
export const RUN_PHASES = [1, 2, 3, 4] as const;
export const RunPhaseSchema = z.literal(RUN_PHASES);
export type RunPhase = (typeof RUN_PHASES)[number];

export const STEP_IDS = [
  'frame',
  'design',
  'research',
  'build',
  'research-exec',
  'checkpoint',
  'refactor',
  'inspect',
  'verify',
] as const;
export const StepIdSchema = z.enum(STEP_IDS);
export type StepId = z.infer<typeof StepIdSchema>;

/** Steps the Director does itself (an LLM call of its own), not a REQUEST to a worker queue. */
export type DecideStepId = 'frame' | 'verify';

export interface StepSpec {
  readonly id: StepId;
  readonly role: Role;
  readonly phase: RunPhase;
  /** `request`: a REQUEST to `agent.<role>`; `decide`: the Director's own call. */
  readonly kind: 'request' | 'decide';
  /** Steps of the same phase that must be done first (none = may start with the phase). */
  readonly after: readonly StepId[];
  readonly purpose: string;
}

export const STEPS: Readonly<Record<StepId, StepSpec>> = deepFreeze({
  frame: { id: 'frame', role: 'director', phase: 1, kind: 'decide', after: [], purpose: 'frame the goal' },
  design: { id: 'design', role: 'architect', phase: 1, kind: 'request', after: ['frame'], purpose: 'design' },
  research: {
    id: 'research',
    role: 'scout',
    phase: 1,
    kind: 'request',
    after: ['design'],
    purpose: 'research for the plan',
  },
  build: { id: 'build', role: 'builder', phase: 2, kind: 'request', after: [], purpose: 'implement' },
  'research-exec': {
    id: 'research-exec',
    role: 'scout',
    phase: 2,
    kind: 'request',
    after: [],
    purpose: 'research alongside the build',
  },
  checkpoint: {
    id: 'checkpoint',
    role: 'scribe',
    phase: 2,
    kind: 'request',
    after: ['build', 'research-exec'],
    purpose: 'write the checkpoint',
  },
  refactor: { id: 'refactor', role: 'refactorer', phase: 3, kind: 'request', after: [], purpose: 'refactor' },
  inspect: {
    id: 'inspect',
    role: 'inspector',
    phase: 3,
    kind: 'request',
    after: ['refactor'],
    purpose: 'inspect independently',
  },
  verify: { id: 'verify', role: 'director', phase: 3, kind: 'decide', after: ['inspect'], purpose: 'verify' },
});

/** Steps of each phase in their guide order; P4 has none (it is the Director's iterate decision). */
export const PHASE_STEPS: Readonly<Record<RunPhase, readonly StepId[]>> = deepFreeze({
  1: ['frame', 'design', 'research'],
  2: ['build', 'research-exec', 'checkpoint'],
  3: ['refactor', 'inspect', 'verify'],
  4: [],
});

export function isDecideStep(step: StepId): step is DecideStepId {
  return STEPS[step].kind === 'decide';
}
