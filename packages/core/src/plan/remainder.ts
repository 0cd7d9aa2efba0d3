// What is left of a step already in flight (issue 24 §3, an ETA that holds): the re-forecast of a
// run under way must not count the step the team is working on from its start again. A step
// requested `elapsedMs` ago is drawn only from past samples that ran longer than that (the step
// is evidently not done yet: the expected rest of a step that has survived so long), then cut at
// `elapsedMs`: groups already over are dropped, a call under way keeps what is left of its
// latency, the tail shrinks last. Pure.
import type { CallGroup, StepSample } from './profile.js';

/** How long a group of calls runs alone: its longest call from the group's start. */
const spanOf = (group: CallGroup): number => Math.max(0, ...group.calls.map((c) => c.offsetMs + c.latencyMs));

/** From the step's REQUEST to its completion, nobody waiting (what `elapsedMs` is compared with). */
export function activeMs(sample: StepSample): number {
  return sample.groups.reduce((t, g) => t + g.gapMs + spanOf(g), 0) + sample.tailMs;
}

/**
 * The rest of `sample` after `elapsedMs` since its REQUEST: no dispatch (it was dispatched), the
 * groups and tail not yet over. A sample shorter than `elapsedMs` leaves nothing (ends at once).
 */
export function remainderOf(sample: StepSample, elapsedMs: number): StepSample {
  let left = Math.max(0, elapsedMs);
  const groups: CallGroup[] = [];
  for (const group of sample.groups) {
    if (left === 0) {
      groups.push(group);
      continue;
    }
    if (left < group.gapMs) {
      groups.push({ gapMs: group.gapMs - left, calls: group.calls });
      left = 0;
      continue;
    }
    const into = left - group.gapMs;
    const span = spanOf(group);
    if (into >= span) {
      left = into - span;
      continue;
    }
    // Inside the group: calls already answered are gone; one under way keeps the rest of its latency.
    const calls = group.calls
      .filter((c) => c.offsetMs + c.latencyMs > into)
      .map((c) =>
        c.offsetMs >= into
          ? { ...c, offsetMs: c.offsetMs - into }
          : { ...c, offsetMs: 0, latencyMs: c.offsetMs + c.latencyMs - into },
      );
    groups.push({ gapMs: 0, calls });
    left = 0;
  }
  return { ...sample, dispatchMs: 0, groups, tailMs: Math.max(0, sample.tailMs - left) };
}

/** The samples a step in flight for `elapsedMs` can still be: those that ran longer (else all). */
export function survivors(pool: readonly StepSample[], elapsedMs: number): readonly StepSample[] {
  const longer = pool.filter((s) => activeMs(s) > elapsedMs);
  return longer.length > 0 ? longer : pool;
}
