// @nightshift/redis: connections, key names, the bus, queues, state store, leases.
export * from './connection.js';
export * from './keys.js';
