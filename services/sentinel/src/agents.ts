// What the bus says about each agent's recent calls, per run: a RESPONSE is progress, an ALERT is
// an error (guide §4.1 stuck detection: no progress in 3 calls, the same error 3 times).
import type { AgentObservation, CallObservation } from '@nightshift/core';
import { isRole, type Message, type Role } from '@nightshift/protocol';

/** Calls kept per agent: the rules look at the last 3; a few more help a state dump. */
const WINDOW = 20;

interface Track {
  readonly runId: string;
  readonly role: Role;
  calls: CallObservation[];
  lastProgressAt?: number;
  /** Its latest STATUS (a tool call, "working on"): a sign of life, not a call. */
  lastStatusAt?: number;
}

/** Stream ids (`<ms>-<seq>`) in order; a malformed id sorts first. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/** The error of an agent ALERT, without the request id and attempt that differ on every try. */
export function errorOf(message: Pick<Message, 'content' | 'context'>): string {
  const reason =
    /failed request \S+ \(attempt \d+\): ([\s\S]*)$/.exec(message.content)?.[1] ?? message.content;
  const code = /code: (\S+)/.exec(message.context ?? '')?.[1];
  return `${code ? `${code}: ` : ''}${reason.trim()}`.slice(0, 500);
}

export class AgentWindow {
  readonly #tracks = new Map<string, Track>();
  #last = '0-0';

  /** The newest bus:log entry applied. */
  get lastId(): string {
    return this.#last;
  }

  /**
   * Applies one bus:log entry; false when it was applied before (the startup replay and the
   * consumer group may both deliver it). Entries must come in log order.
   */
  record(entryId: string, message: Message): boolean {
    if (compareStreamIds(entryId, this.#last) <= 0) return false;
    this.#last = entryId;
    const role = message.from;
    // The Director's and the runtime's own messages are not an agent's calls.
    if (!isRole(role) || role === 'director') return true;
    if (message.type !== 'RESPONSE' && message.type !== 'ALERT' && message.type !== 'STATUS') return true;
    const at = Date.parse(message.timestamp);
    const id = `${message.runId}|${role}`;
    let track = this.#tracks.get(id);
    if (!track) {
      track = { runId: message.runId, role, calls: [] };
      this.#tracks.set(id, track);
    }
    if (message.type === 'STATUS') {
      if (Number.isFinite(at)) track.lastStatusAt = Math.max(track.lastStatusAt ?? at, at);
    } else if (message.type === 'RESPONSE') {
      track.calls.push({ progress: true });
      if (Number.isFinite(at)) track.lastProgressAt = Math.max(track.lastProgressAt ?? at, at);
    } else {
      track.calls.push({ progress: false, error: errorOf(message) });
    }
    if (track.calls.length > WINDOW) track.calls.splice(0, track.calls.length - WINDOW);
    return true;
  }

  /**
   * Agents seen in this run. `busySince` is the earliest start of its active jobs, moved up to
   * its latest STATUS: "stuck > 10 min" (guide §3) means busy with no sign of life that long.
   */
  observe(runId: string, busySince: Readonly<Partial<Record<Role, number>>> = {}): AgentObservation[] {
    const out: AgentObservation[] = [];
    const seen = new Set<Role>();
    for (const track of this.#tracks.values()) {
      if (track.runId !== runId) continue;
      seen.add(track.role);
      const started = busySince[track.role];
      const busy = started === undefined ? undefined : Math.max(started, track.lastStatusAt ?? started);
      if (track.calls.length === 0 && busy === undefined) continue;
      out.push({
        role: track.role,
        calls: [...track.calls],
        ...(track.lastProgressAt === undefined ? {} : { lastProgressAt: track.lastProgressAt }),
        ...(busy === undefined ? {} : { busySince: busy }),
      });
    }
    for (const [role, busy] of Object.entries(busySince)) {
      if (busy === undefined || !isRole(role) || seen.has(role)) continue;
      out.push({ role, calls: [], busySince: busy });
    }
    return out.sort((a, b) => a.role.localeCompare(b.role));
  }

  /** True when the agent's last call was progress: a stuck incident about it is over. */
  progressed(runId: string, role: string): boolean {
    return this.#tracks.get(`${runId}|${role}`)?.calls.at(-1)?.progress === true;
  }

  /** Forgets runs that ended. */
  forget(runId: string): void {
    for (const [id, track] of this.#tracks) if (track.runId === runId) this.#tracks.delete(id);
  }
}
