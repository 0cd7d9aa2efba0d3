// Scripted replies shared by both fakes: an ordered rule list, first match with uses left wins.
// Also the role marker: each persona's system prompt carries a line `ROLE: <role>`.

/** What every fake request exposes to rule matching. */
export interface MatchableRequest {
  /** From the `x-nightshift-role` header, else the `ROLE: <role>` line of the system prompt; lower-case. */
  role: string | null;
  /** The conversation text without the system prompt (what `contains` is tested against). */
  text: string;
}

export interface RuleMatch<Req> {
  /** Case-insensitive equality with the request's role. */
  role?: string;
  /** Substring or pattern tested against the non-system messages' text. */
  contains?: string | RegExp;
  predicate?: (req: Req) => boolean;
}

export interface ScenarioRule<Req, Reply> {
  /** Absent: matches every request. */
  match?: RuleMatch<Req>;
  /** A fixed reply, or a function of the request (may be async: it runs while holding a slot). */
  reply: Reply | ((req: Req) => Reply | Promise<Reply>);
  /** How many requests this rule may answer; absent = unlimited. */
  times?: number;
}

interface LiveRule<Req, Reply> {
  rule: ScenarioRule<Req, Reply>;
  left: number;
}

export class Scenario<Req extends MatchableRequest, Reply> {
  #rules: LiveRule<Req, Reply>[] = [];

  constructor(rules: readonly ScenarioRule<Req, Reply>[] = []) {
    this.set(rules);
  }

  /** Replaces all rules and their use counts. */
  set(rules: readonly ScenarioRule<Req, Reply>[]): void {
    this.#rules = rules.map((rule) => ({ rule, left: rule.times ?? Number.POSITIVE_INFINITY }));
  }

  /** Rules appended after the current ones (e.g. a test adding a fault mid-run). */
  add(...rules: ScenarioRule<Req, Reply>[]): void {
    for (const rule of rules) this.#rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Rules that still have uses left and were given a finite `times` (for "all consumed" checks). */
  get pendingRules(): number {
    return this.#rules.filter((r) => Number.isFinite(r.left) && r.left > 0).length;
  }

  /** Picks (and uses up) the first matching rule; undefined when none matches. */
  async pick(req: Req): Promise<Reply | undefined> {
    for (const live of this.#rules) {
      if (live.left <= 0 || !matches(live.rule.match, req)) continue;
      live.left -= 1;
      const { reply } = live.rule;
      return typeof reply === 'function' ? await (reply as (r: Req) => Reply | Promise<Reply>)(req) : reply;
    }
    return undefined;
  }
}

function matches<Req extends MatchableRequest>(match: RuleMatch<Req> | undefined, req: Req): boolean {
  if (match === undefined) return true;
  if (match.role !== undefined && match.role.toLowerCase() !== req.role) return false;
  if (match.contains !== undefined) {
    const pattern = match.contains;
    if (typeof pattern !== 'string') pattern.lastIndex = 0; // a /g pattern keeps state between tests
    const found = typeof pattern === 'string' ? req.text.includes(pattern) : pattern.test(req.text);
    if (!found) return false;
  }
  return match.predicate === undefined || match.predicate(req);
}

const ROLE_LINE = /^\s*ROLE:\s*([A-Za-z0-9_-]+)\s*$/im;

/** The role marker: header first (explicit beats inferred), else the `ROLE:` line of the system prompt. */
export function extractRole(
  header: string | string[] | undefined,
  systemText: string | undefined,
): string | null {
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader.trim() !== '') return fromHeader.trim().toLowerCase();
  const found = systemText === undefined ? null : ROLE_LINE.exec(systemText);
  return found?.[1]?.toLowerCase() ?? null;
}

/** Token estimate used for usage counts: about four characters per token. */
export function estimateTokens(chars: number): number {
  return chars === 0 ? 0 : Math.max(1, Math.ceil(chars / 4));
}
