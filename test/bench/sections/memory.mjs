// Memory and startup: RSS of each service process idle and under load, the whole stack's sum,
// and the stack's time to all-healthy. Measured by the sections that run those processes.
import { round } from '../lib/stats.mjs';

const sum = (values) => values.reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0);

/** Section 5: needs fullRun (the stack); uses dispatch's agent and limiter's gateways when present. */
export async function benchMemory(ctx) {
  const stack = ctx.shared.stack;
  if (!stack) throw new Error('memory needs the fullRun section, which starts the stack it measures');
  const idle = stack.idleMb;
  const workers = Object.entries(idle).filter(([name]) => name.startsWith('agent-'));
  return {
    startup: stack.startup,
    idleMb: idle,
    idleStackMb: round(sum(Object.values(idle)), 1),
    idleAgentMaxMb: round(Math.max(...workers.map(([, mb]) => mb)), 1),
    fullRunPeakMb: stack.loadPeakMb,
    fullRunPeakStackMb: stack.loadPeakSumMb,
    underLoadMb: {
      // 10,000 REQUESTs through one agent (concurrency 16) with the instant model.
      agentDispatch: ctx.results.dispatch?.rssPeakMb?.agent ?? null,
      // The busiest of 3 gateways during the limiter's calls.
      gatewayLimiter: ctx.results.limiter?.rssPeakMb?.gatewayMax ?? null,
    },
    targets: { perWorkerMb: 80, stackMb: 600 },
  };
}
