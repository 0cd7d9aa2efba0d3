// What the container tier reads back: container health from `docker compose ps`, and the truth about a
// run from the compose Redis (published on 127.0.0.1 by the test override): its folded state, steps
// completed twice, and RESPONSEs per REQUEST in bus:log.
import { fold, parseRunEvent } from '@nightshift/core';
import { createBus, createKeys, createRedisClient, createRunStore } from '@nightshift/redis';
import { sleep } from '@nightshift/testkit';
import type { Result } from './engine.js';

/** Every long-running service of docker-compose.yml + the test override (ollama-pull exits 0 instead). */
export const SERVICES = [
  'redis',
  'ollama',
  'anthropic',
  'llm-gateway',
  'director',
  'scribe',
  'sentinel',
  'dashboard',
  'architect',
  'scout',
  'builder',
  'refactorer',
  'inspector',
];

interface PsEntry {
  Service: string;
  State: string;
  Health: string;
  ExitCode: number;
}

/** Waits until every container of every service is healthy and ollama-pull exited 0; fails listing the rest. */
export async function waitHealthy(
  compose: (...args: string[]) => Promise<Result>,
  services: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let problems: string[] = [];
  while (Date.now() < deadline) {
    const ps = await compose('ps', '-a', '--format', 'json');
    const entries: PsEntry[] = ps.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as PsEntry);
    problems = [];
    for (const service of services) {
      const mine = entries.filter((e) => e.Service === service);
      if (mine.length === 0) problems.push(`${service}: no container`);
      for (const e of mine) if (e.Health !== 'healthy') problems.push(`${service}: ${e.State} ${e.Health}`);
    }
    const pull = entries.find((e) => e.Service === 'ollama-pull');
    if (pull !== undefined && pull.State === 'exited' && pull.ExitCode !== 0)
      throw new Error(`ollama-pull exited ${pull.ExitCode}`);
    if (problems.length === 0) return;
    await sleep(1000);
  }
  const logs = await compose('logs', '--no-color', '--tail', '30');
  throw new Error(
    `not healthy after ${timeoutMs / 1000} s:\n- ${problems.join('\n- ')}\n${logs.stdout.slice(-6000)}`,
  );
}

export interface RunRead {
  status: string;
  /** Request ids whose step.completed event appears more than once. */
  stepsCompletedTwice: string[];
  /** Where the team worked: the run's own checkout (issue 18), not the workspace itself. */
  checkoutCwd: string | undefined;
}

export async function readRun(redisUrl: string, runId: string): Promise<RunRead> {
  const redis = createRedisClient(redisUrl);
  try {
    const stored = await createRunStore(redis, createKeys('nightshift')).read(runId);
    const events = stored.map((e) => parseRunEvent(e.event));
    const completed = events.filter((e) => e.type === 'step.completed').map((e) => String(e.messageId));
    const state = events.length === 0 ? undefined : fold(events);
    return {
      status: state?.status ?? 'not-created',
      stepsCompletedTwice: completed.filter((id, i) => completed.indexOf(id) !== i),
      checkoutCwd: state?.checkout?.cwd,
    };
  } finally {
    redis.disconnect();
  }
}

/** REQUESTs of the run in bus:log, and those answered by more than one RESPONSE. */
export async function countAnswers(
  redisUrl: string,
  runId: string,
): Promise<{ requests: number; duplicated: string[] }> {
  const bus = createBus({ url: redisUrl, keys: createKeys('nightshift'), onError: () => undefined });
  try {
    const requests = new Set<string>();
    const answers = new Map<string, number>();
    let after: string | undefined;
    for (;;) {
      const page = await bus.readLog({ count: 1000, ...(after === undefined ? {} : { after }) });
      for (const entry of page) {
        const m = entry.message;
        if (m === undefined || m.runId !== runId) continue;
        if (m.type === 'REQUEST') requests.add(m.id);
        if (m.type === 'RESPONSE' && m.inReplyTo !== undefined)
          answers.set(m.inReplyTo, (answers.get(m.inReplyTo) ?? 0) + 1);
      }
      if (page.length < 1000) break;
      after = page.at(-1)?.id;
    }
    return { requests: requests.size, duplicated: [...answers].filter(([, n]) => n > 1).map(([id]) => id) };
  } finally {
    await bus.close();
  }
}
