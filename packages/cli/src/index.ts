// @nightshift/cli: the `nightshift` command, as a program others can extend and test.

export { controlFromConfig, withControl } from './control-deps.js';
export type { CliDeps } from './deps.js';
export { withBus } from './deps.js';
export { buildProgram, COMMANDS, type CommandRegistrar, EXIT, runCli } from './program.js';
// The morning report's Vega-Lite → SVG renderer, for harnesses that chart what they measured (test/soak).
export { toSvg } from './report/charts.js';
// The simulated model's scripted replies (`nightshift up --sim`, the demo), for harnesses that run the
// fake servers elsewhere, e.g. in a container (test/docker).
export { directorScenario, SIM_LABEL, workerScenario } from './sim/scenario.js';
