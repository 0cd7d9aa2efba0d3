// The harness as the human operator: resolves open Sentinel alerts ("continue") and resumes queues
// the circuit breaker paused, counting every time it had to — what a person at the dashboard does
// when the fault is known to be injected. Without a built Sentinel there is nothing to do.
import { createAlertStore } from '@nightshift/redis';
import { SENTINEL_BUILT } from './procs.mjs';

export function operator(world, queueFor) {
  const resolved = [];
  const released = {};
  let sentinel;
  const load = async () => {
    sentinel ??= SENTINEL_BUILT ? await import('@nightshift/service-sentinel') : null;
    return sentinel;
  };
  return {
    resolved,
    released,
    /**
     * Resolves every open alert as a human would ("continue"), so the queues it held resume. Not a
     * Level 1: it pauses nothing and closes itself when its condition clears (issue 21: the
     * provider-down alert of an outage), which is what a soak shows.
     */
    async resolveAlerts() {
      const m = await load();
      if (!m) return;
      const alerts = createAlertStore(world.bus.redis, world.keys);
      for (const alert of await alerts.list({ limit: 200 })) {
        if (alert.status !== 'open' || alert.level < 2) continue;
        await m.resolveAlert({ alerts, bus: world.bus }, alert.id, {
          decision: 'continue',
          by: 'human',
          note: 'chaos harness: the fault was injected on purpose',
        });
        resolved.push(`L${alert.level} ${alert.rule} ${alert.subject}`);
      }
    },
    /** Lets go of the circuit breaker's hold on these queues (the breaker may take it again). */
    async releaseCircuits(queueNames) {
      const m = await load();
      if (!m || !queueFor) return;
      const holds = new m.QueueHolds(world.bus.redis, world.keys, queueFor);
      for (const name of queueNames) {
        if (await holds.release(name, m.CIRCUIT_HOLDER)) released[name] = (released[name] ?? 0) + 1;
      }
    },
  };
}
