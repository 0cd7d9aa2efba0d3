// Golden renderings of team-state.md after each phase (issue 7 acceptance). Regenerate after an
// intended change with `UPDATE_GOLDEN=1 npx vitest run src/team-state.test.ts`, then review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunState } from '@nightshift/core';
import { ROLES } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { renderTeamState, type TeamStateExtras } from './team-state.js';
import { ScriptedRun } from './test-support/scripted-run.js';
import { checkpointTriggers } from './triggers.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'test-support', 'golden');
const HEADING = '~/clawd/memory/run-golden/team-state.md';
const ALL_ALIVE = new Set<string>(ROLES);

/** The guide's own example (guide §3 "Implementation: Shared State for Meetings"), verbatim. */
const GUIDE_EXAMPLE = `# ~/clawd/memory/team-state.md

## Current Phase: 2 - Execution
## Last Checkpoint: 2026-01-28 03:45:00

### Agent Status
| Agent | Status | Current Task | Trust |
|-------|--------|--------------|-------|
| Director | Active | Monitoring | N/A |
| Architect | Idle | - | 8/10 |
| Scout | Working | Researching API patterns | 7/10 |
| Builder | Working | Implementing auth module | 9/10 |
| Refactorer | Idle | - | 8/10 |
| Inspector | Idle | - | 9/10 |
| Scribe | Active | Maintaining state | N/A |

### Pending Decisions
- [ ] Choice between REST vs GraphQL (awaiting Scout research)

### Blockers
- None currently

### Next Checkpoint Trigger
- Builder completes auth module`;

function render(run: ScriptedRun, extras: TeamStateExtras = {}): string {
  const triggers = checkpointTriggers(run.events);
  const last = triggers.at(-1);
  return renderTeamState(run.state, {
    heading: HEADING,
    lastCheckpoint: last ? { n: triggers.length, at: last.at } : undefined,
    alive: ALL_ALIVE,
    summaryFile: '~/clawd/memory/run-golden/summary.md',
    ...extras,
  });
}

function golden(name: string, text: string): void {
  const file = join(GOLDEN, `${name}.md`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

/** P1 done: P2 started, Builder and Scout working. */
function afterP1(): ScriptedRun {
  const run = new ScriptedRun('run-golden', { title: 'Login form' });
  return run
    .advance()
    .complete('frame')
    .advance()
    .complete('design')
    .advance()
    .complete('research')
    .advance();
}

function afterP2(): ScriptedRun {
  return afterP1()
    .complete('build')
    .complete('research-exec')
    .trust('scout', 7, 8, 'useful research')
    .advance()
    .complete('checkpoint')
    .advance();
}

/** P3 done: a major finding, the Director's verdict (revise), trust adjusted, P4 entered. */
function afterP3(): ScriptedRun {
  const run = afterP2().complete('refactor').advance();
  run.inspect([{ severity: 'major', file: 'src/login.ts', description: 'no CSRF token' }]).advance();
  run
    .verify('revise', 'add the CSRF token')
    .trust('builder', 7, 5, 'major finding')
    .trust('inspector', 7, 9, 'caught it');
  return run.add({ type: 'phase.started', phase: 4, iteration: 1 });
}

function finished(): ScriptedRun {
  const run = afterP3().advance();
  run.complete('build').complete('research-exec').advance().complete('checkpoint').advance();
  run.complete('refactor').advance().inspect([]).advance().verify('finish', 'all clean').advance();
  return run;
}

describe('team-state.md golden renderings', () => {
  it('keeps the guide example line for line: headings, table header, order of sections', () => {
    const text = render(afterP1());
    const skeleton = (s: string) =>
      s
        .split('\n')
        .slice(0, 23)
        .map((line) =>
          line.startsWith('#') || line.startsWith('|-') || line.startsWith('| Agent |')
            ? line.replace(/:.*$/, ':')
            : line.startsWith('| ')
              ? line.split('|')[1]?.trim()
              : line === ''
                ? ''
                : '- item',
        );
    expect(skeleton(text).slice(1)).toEqual(skeleton(GUIDE_EXAMPLE).slice(1));
    expect(text).toMatch(/^## Last Checkpoint: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(CP-\d+\)$/m);
  });

  it('after P1 (planning done, Builder ‖ Scout working)', () => golden('after-p1', render(afterP1())));
  it('after P2 (checkpoint written, Refactorer working, Scout trusted more)', () =>
    golden('after-p2', render(afterP2())));
  it('after P3 (major finding, verdict revise, Builder 5/10, Inspector 9/10)', () =>
    golden('after-p3', render(afterP3())));
  it('after P4 (run finished)', () => golden('finished', render(finished())));

  it('waiting for a human after a step failed three times; an offline worker is a blocker', () => {
    const run = afterP1().complete('research-exec');
    for (let i = 0; i < 3; i++) run.fail('build', 'tests keep failing').advance();
    const state: RunState = run.state;
    expect(state.status).toBe('waiting-human');
    golden(
      'waiting-human',
      render(run, { alive: new Set(['architect', 'scout', 'refactorer', 'inspector']) }),
    );
  });

  it('before any phase and without a checkpoint', () => {
    const text = renderTeamState(new ScriptedRun('run-new').state);
    expect(text).toContain('## Current Phase: - (not started)\n## Last Checkpoint: none yet\n');
    expect(text).toContain('| Builder | Idle | - | 7/10 |');
    expect(text).toContain('### Next Checkpoint Trigger\n- Phase 1 - Planning starts\n');
  });
});
