// @nightshift/cli: the `nightshift` command, as a program others can extend and test.

export * from './control/index.js';
export { controlFromConfig, withControl } from './control-deps.js';
export type { CliDeps } from './deps.js';
export { withBus } from './deps.js';
export { buildProgram, COMMANDS, type CommandRegistrar, EXIT, runCli } from './program.js';
