// @nightshift/protocol: the wire contract every process speaks.
export * from './errors.js';
export * from './ids.js';
export { type ParseDefaults, parse, render } from './markdown.js';
export * from './message.js';
export * from './outputs.js';
export * from './roles.js';
export * from './run-input.js';
export { problemsFrom, validate } from './schema-errors.js';
export { assertRoute, checkRoute, type RouteCheck, type RouteRule, TOPOLOGY } from './topology.js';
