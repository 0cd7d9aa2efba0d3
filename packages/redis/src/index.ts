// @nightshift/redis: connections, key names, the bus, queues, state store, leases.

export * from './alerts.js';
export * from './archive/index.js';
export * from './bus/index.js';
export * from './connection.js';
export * from './heartbeat-loop.js';
export * from './heartbeats.js';
export * from './keys.js';
export * from './leadership.js';
export { holderKnownDead, instanceToken, type LocalProcess, pidAlive, thisProcess } from './lease-holder.js';
export * from './leases.js';
export * from './runs/enqueue.js';
export * from './runs/store.js';
export * from './service-connections.js';
