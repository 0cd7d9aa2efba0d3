// What each step is asked: the REQUEST content and context a worker receives, and the
// Director's own prompts. Agents get the run's state as context, not the raw history (guide §10).
import type { StepContext, StepId } from '@nightshift/core';

const ASK: Record<StepId, string> = {
  frame: 'Frame the goal of this task for the team: what done looks like and the constraints.',
  design: 'Design the change: the components to touch, the approach, and the risks. Advise; do not direct.',
  research: 'Research what the plan needs: relevant files, APIs and prior art in the workspace.',
  build: 'Implement the design in the workspace. Report the files you changed and a summary.',
  'research-exec': 'Support the build: answer open questions and check assumptions of the design.',
  checkpoint: 'Record a checkpoint: status of each agent, blockers, and the state of the work.',
  refactor: 'Review the build for quality and propose improvements that keep behaviour unchanged.',
  // The findings JSON it must end with is asked for in Expected Response (protocol OUTPUT_INSTRUCTIONS).
  inspect: 'Test and review the work independently and report every finding with its severity.',
  verify: 'Verify the review and decide.',
};

/** The REQUEST content for a worker step. */
export function requestContent(step: StepId, ctx: StepContext): string {
  return `${ASK[step]}\n\nTask: ${ctx.task}`;
}

/** The plan every step may need; with a Scribe summary these are the only raw outputs passed on. */
const PLAN_STEPS: readonly StepId[] = ['frame', 'design'];

/**
 * The REQUEST context: the state a worker needs, bounded. When the Scribe's rolling summary is
 * there (guide §10 "summarise rather than pass full transcripts"), it replaces the raw history:
 * only the plan and the step's own dependencies travel as outputs, so the context stays the same
 * size however long the run gets. Without one (early in a run, Scribe down), every output goes,
 * truncated.
 */
export function requestContext(
  ctx: StepContext,
  maxChars = 6000,
  summary?: string | null,
  deps: readonly StepId[] = [],
): string {
  const parts: string[] = [
    `Run ${ctx.runId}, phase ${ctx.phase}, iteration ${ctx.iteration}, attempt ${ctx.attempt}.`,
  ];
  if (ctx.workspace) parts.push(`Workspace: ${ctx.workspace}`);
  if (summary) {
    const body = summary.replace(/^# .*\n/, '').trim();
    parts.push(`## Team summary (Scribe)\n${truncate(body, 3000)}`);
  }
  for (const [step, output] of Object.entries(ctx.outputs)) {
    if (summary && !PLAN_STEPS.includes(step as StepId) && !deps.includes(step as StepId)) continue;
    parts.push(`## ${step}\n${truncate(typeof output === 'string' ? output : JSON.stringify(output), 1500)}`);
  }
  if (ctx.findings.length > 0) {
    parts.push(
      `## Findings to address\n${ctx.findings
        .map((f) => `- [${f.severity}] ${f.file ? `${f.file}: ` : ''}${f.description}`)
        .join('\n')}`,
    );
  }
  if (ctx.previousVerdict)
    parts.push(`## Director's verdict\n${ctx.previousVerdict.decision}: ${ctx.previousVerdict.rationale}`);
  if (ctx.humanNotes.length > 0) parts.push(`## Notes from a human\n${ctx.humanNotes.join('\n')}`);
  if (ctx.lastError) parts.push(`## The previous attempt failed\n${ctx.lastError}`);
  return truncate(parts.join('\n\n'), maxChars);
}

export const DIRECTOR_SYSTEM = [
  'ROLE: director',
  'You are the Director of a team of seven agents working overnight on a codebase.',
  'You coordinate, arbitrate and decide; you weigh the team trust-weighted and you catch blind spots the workers share.',
].join('\n');

export function framePrompt(ctx: StepContext): string {
  return `Frame the goal for the team.\n\nTask: ${ctx.task}\n\nAnswer with a short statement of the goal, what done looks like, and the constraints.`;
}

export function verifyPrompt(ctx: StepContext, maxIterations: number): string {
  const findings = ctx.findings.length
    ? ctx.findings
        .map((f) => `- [${f.severity}] ${f.file ? `${f.file}: ` : ''}${f.description} (from ${f.from})`)
        .join('\n')
    : '- none';
  return [
    `Verify the review of iteration ${ctx.iteration} (at most ${maxIterations}).`,
    `Task: ${ctx.task}`,
    requestContext(ctx),
    `Findings of this review:\n${findings}`,
    'Decide: "finish" (the work is done), "revise" (another round of execution with these findings),',
    '"escalate" (a human must decide), or "abort".',
    'Answer with exactly one JSON object: {"decision": "finish|revise|escalate|abort", "rationale": "…"}',
  ].join('\n\n');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 20)}\n…[truncated]`;
}
