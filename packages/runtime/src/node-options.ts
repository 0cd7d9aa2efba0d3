// The V8 settings every service process runs with unless NODE_OPTIONS says otherwise. The
// services are I/O-bound (they wait on Redis and the model), so a small young generation and one
// V8 helper thread cost little speed and cut an idle process from ~95 to ~82 MB RSS (measured on
// an agent, Node 20; docs/benchmarks.md §5). Used by `nightshift up`, the Docker image (ENV in
// deploy/Dockerfile, kept equal by a test) and the benchmark's memory figures.
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=2 --v8-pool-size=1';

/** `env` with NODE_OPTIONS set to SERVICE_NODE_OPTIONS when it has none (a user's own wins). */
export function withServiceNodeOptions(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.NODE_OPTIONS === undefined || env.NODE_OPTIONS === ''
    ? { ...env, NODE_OPTIONS: SERVICE_NODE_OPTIONS }
    : env;
}
