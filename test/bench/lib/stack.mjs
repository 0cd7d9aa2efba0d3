// Spawning the pieces the sections share: service processes from their built entry files, and
// bench scripts that announce READY / DONE on stdout and start on "GO" from stdin.
import { childEnv, SERVICE_MAIN, spawnNode } from './procs.mjs';

/** A bench script child with promises for its READY and DONE lines. */
export function spawnScript(name, script, { env, args = [] } = {}) {
  const marks = {};
  const ready = new Promise((resolve) => {
    marks.READY = resolve;
  });
  const done = new Promise((resolve) => {
    marks.DONE = resolve;
  });
  const proc = spawnNode(name, script, { env, args, onLine: (line) => marks[line]?.() });
  const failed = proc.exited.then((code) => {
    throw new Error(`${name} exited (${code}) early\n${proc.tail()}`);
  });
  // Whichever comes first: the mark, or the process dying without it.
  const guard = (promise) => Promise.race([promise, failed]);
  failed.catch(() => undefined);
  return {
    proc,
    ready: () => guard(ready),
    done: () => guard(done),
    go: () => proc.child.stdin.write('GO\n'),
  };
}

export function serviceEnv(ctx, prefix, vars = {}) {
  return childEnv({ REDIS_URL: ctx.redisUrl, NIGHTSHIFT_PREFIX: prefix, ...vars });
}

export function spawnGateways(ctx, prefix, count, vars) {
  return Array.from({ length: count }, (_, i) =>
    spawnNode(`llm-gateway-${i + 1}`, SERVICE_MAIN['llm-gateway'], { env: serviceEnv(ctx, prefix, vars) }),
  );
}

export function spawnAgent(ctx, prefix, role, vars = {}) {
  return spawnNode(`agent-${role}`, SERVICE_MAIN.agent, {
    env: serviceEnv(ctx, prefix, { ROLE: role, ...vars }),
  });
}
