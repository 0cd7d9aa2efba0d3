// Which finished runs leave Redis for the archive (issue 21 §2): pure, time is a parameter. A run
// that has not ended is never chosen, whatever its age; of the ended ones, a run goes when its end
// is older than the age limit or when it is not among the `keep` most recently ended.

export interface RetentionPolicy {
  /** Runs that ended more than this long ago are archived; 0 = no age limit. */
  maxAgeMs: number;
  /** The most recently ended runs kept whatever their age; 0 = no count limit. */
  keep: number;
  /** Most runs chosen at once (one pass of the Scribe). */
  batch: number;
}

export interface RetentionCandidate {
  runId: string;
  /** When the run ended (epoch ms), or null while it has not. */
  endedAt: number | null;
}

/** The runs to archive now, oldest end first, at most `policy.batch`. */
export function runsToArchive(
  runs: readonly RetentionCandidate[],
  now: number,
  policy: RetentionPolicy,
): string[] {
  const ended = runs
    .filter((r): r is { runId: string; endedAt: number } => r.endedAt !== null)
    .sort((a, b) => b.endedAt - a.endedAt || a.runId.localeCompare(b.runId));
  const chosen = ended.filter(
    (r, newest) =>
      (policy.maxAgeMs > 0 && now - r.endedAt > policy.maxAgeMs) ||
      (policy.keep > 0 && newest >= policy.keep),
  );
  return chosen
    .reverse()
    .slice(0, Math.max(0, policy.batch))
    .map((r) => r.runId);
}
