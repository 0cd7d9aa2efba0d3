// The capacity model (issue 12 `nightshift simulate`): a discrete-event simulation of a night
// with the same scheduling rules as the real system — each agent works one task at a time from
// its role's queue, every model call needs one of `numParallel` slots, and waiting calls get a
// slot by priority (guide §7: Director first … Scribe last), then arrival (BullMQ: equal
// priorities are FIFO). Pure and clock-free: time is simulated milliseconds.
import type { Role } from '@nightshift/protocol';

export interface SimTask {
  role: Role;
  /** Model calls the task makes, one after another (a tool loop makes several). */
  calls: number;
  /** Model latency of each call, ms. */
  latencyMs: number;
  /** Work between calls and around the task that holds no slot (tools, the agent's bus traffic), ms. */
  overheadMs?: number;
  /**
   * Time each call holds its slot beyond the model's latency (the gateway's queue hop, the HTTP
   * round trip, storing the result), ms. Slot utilisation counts model latency only.
   */
  slotOverheadMs?: number;
  /** Earliest start, ms (default 0). */
  releaseMs?: number;
}

export interface CapacityInput {
  tasks: readonly SimTask[];
  agents: Readonly<Partial<Record<Role, number>>>;
  numParallel: number;
  /** Lower = served first (BullMQ priority); default: the guide's role order. */
  priorities?: Readonly<Partial<Record<Role, number>>>;
}

export interface CapacityResult {
  makespanMs: number;
  /** Busy slot-time / (numParallel × makespan). */
  utilisation: number;
  /** Mean and max wait for a slot per role, ms. */
  waits: Partial<Record<Role, { mean: number; max: number; calls: number }>>;
  /** Largest number of calls waiting for a slot at once. */
  maxQueue: number;
}

/** guide §7: the gateway's default priority of each caller (lower runs first). */
export const GUIDE_PRIORITY: Record<Role, number> = {
  director: 1,
  architect: 2,
  scout: 3,
  builder: 3,
  refactorer: 3,
  inspector: 3,
  scribe: 4,
};

interface Waiting {
  agent: Agent;
  since: number;
  seq: number;
}
interface Agent {
  role: Role;
  task: SimTask | undefined;
  callsLeft: number;
}

/** Runs the simulation to the end of the last task. */
export function simulate(input: CapacityInput): CapacityResult {
  if (!Number.isInteger(input.numParallel) || input.numParallel < 1)
    throw new Error('numParallel must be a positive integer');
  const prio = { ...GUIDE_PRIORITY, ...input.priorities };
  const queues = new Map<Role, SimTask[]>();
  for (const task of [...input.tasks].sort((a, b) => (a.releaseMs ?? 0) - (b.releaseMs ?? 0))) {
    const list = queues.get(task.role) ?? [];
    list.push(task);
    queues.set(task.role, list);
  }
  const agents: Agent[] = [];
  for (const [role, count] of Object.entries(input.agents) as [Role, number][]) {
    for (let i = 0; i < count; i++) agents.push({ role, task: undefined, callsLeft: 0 });
  }
  for (const role of queues.keys()) {
    if (!agents.some((a) => a.role === role)) throw new Error(`tasks for ${role} but no ${role} agent`);
  }
  // Event queue: [time, seq, action]; seq keeps simultaneous events in insertion order.
  const events: { at: number; seq: number; run: () => void }[] = [];
  let seq = 0;
  const at = (time: number, run: () => void) => {
    events.push({ at: time, seq: seq++, run });
  };
  let now = 0;
  let freeSlots = input.numParallel;
  let busy = 0;
  let maxQueue = 0;
  let end = 0;
  const waiting: Waiting[] = [];
  const waits = new Map<Role, number[]>();

  const grant = () => {
    while (freeSlots > 0 && waiting.length > 0) {
      waiting.sort((a, b) => prio[a.agent.role] - prio[b.agent.role] || a.since - b.since || a.seq - b.seq);
      const next = waiting.shift() as Waiting;
      freeSlots--;
      const list = waits.get(next.agent.role) ?? [];
      list.push(now - next.since);
      waits.set(next.agent.role, list);
      const latency = next.agent.task?.latencyMs ?? 0;
      busy += latency;
      at(now + latency + (next.agent.task?.slotOverheadMs ?? 0), () => {
        freeSlots++;
        afterCall(next.agent);
        grant();
      });
    }
  };
  const requestSlot = (agent: Agent) => {
    waiting.push({ agent, since: now, seq: seq++ });
    maxQueue = Math.max(maxQueue, waiting.length - freeSlots, 0);
    grant();
  };
  const afterCall = (agent: Agent) => {
    agent.callsLeft--;
    const overhead = agent.task?.overheadMs ?? 0;
    if (agent.callsLeft > 0) at(now + overhead, () => requestSlot(agent));
    else
      at(now + overhead, () => {
        end = Math.max(end, now);
        agent.task = undefined;
        pick(agent);
      });
  };
  const pick = (agent: Agent) => {
    const queue = queues.get(agent.role) ?? [];
    const index = queue.findIndex((t) => (t.releaseMs ?? 0) <= now);
    if (index < 0) {
      const later = queue[0];
      if (later) at(later.releaseMs ?? 0, () => agent.task === undefined && pick(agent));
      return;
    }
    const [task] = queue.splice(index, 1);
    agent.task = task;
    agent.callsLeft = Math.max(1, task?.calls ?? 1);
    requestSlot(agent);
  };
  for (const agent of agents) at(0, () => pick(agent));
  while (events.length > 0) {
    events.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const event = events.shift() as (typeof events)[number];
    now = event.at;
    event.run();
  }
  const makespanMs = end;
  const out: CapacityResult['waits'] = {};
  for (const [role, list] of waits) {
    out[role] = {
      mean: list.reduce((s, w) => s + w, 0) / list.length,
      max: Math.max(...list),
      calls: list.length,
    };
  }
  return {
    makespanMs,
    utilisation: makespanMs > 0 ? busy / (input.numParallel * makespanMs) : 0,
    waits: out,
    maxQueue,
  };
}

/** Makespan for 1…maxAgents agents of `role`; `knee` is the count after which one more helps < 5%. */
export function sweepAgents(input: CapacityInput, role: Role, maxAgents: number) {
  const points: { agents: number; makespanMs: number; utilisation: number }[] = [];
  for (let n = 1; n <= maxAgents; n++) {
    const r = simulate({ ...input, agents: { ...input.agents, [role]: n } });
    points.push({ agents: n, makespanMs: r.makespanMs, utilisation: r.utilisation });
  }
  let knee = maxAgents;
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1] as (typeof points)[number];
    const cur = points[i] as (typeof points)[number];
    if (cur.makespanMs > prev.makespanMs * 0.95) {
      knee = prev.agents;
      break;
    }
  }
  return { points, knee };
}
