// The services of one deployment, as `nightshift up` starts them: the same set and environment
// as docker-compose.yml, with hosts on 127.0.0.1.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_ROLES, type WorkerRole } from '@nightshift/protocol';
import type { ServiceSpec } from './supervisor.js';

/** The repository (or install) root: the folder holding services/. */
export function findRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'services', 'director'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(
    `cannot find the Nightshift services folder above ${start}; run npm run build in the repository`,
  );
}

export function entryOf(root: string, service: string): string {
  const entry = join(root, 'services', service, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  return entry;
}

export type Scale = Partial<Record<WorkerRole, number>>;

/** Parses `builder=3` (repeatable) into a scale table; bad input names the part that is wrong. */
export function parseScale(values: readonly string[]): Scale {
  const scale: Scale = {};
  for (const value of values) {
    const match = /^([a-z]+)=(\d+)$/.exec(value.trim());
    const role = match?.[1];
    if (!match || !role || !(WORKER_ROLES as readonly string[]).includes(role)) {
      throw new Error(
        `--scale ${value}: expected <role>=<count> with role one of ${WORKER_ROLES.join(', ')}`,
      );
    }
    const count = Number(match[2]);
    if (count < 0 || count > 20) throw new Error(`--scale ${value}: count must be 0..20`);
    scale[role as WorkerRole] = count;
  }
  return scale;
}

export interface StackSpecOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  scale?: Scale;
  /** Optional services that are started when they are built (dashboard, sentinel). */
  optional?: readonly string[];
}

export function stackSpecs(o: StackSpecOptions): ServiceSpec[] {
  const specs: ServiceSpec[] = [
    { name: 'llm-gateway', entry: entryOf(o.root, 'llm-gateway'), env: o.env, stopOrder: 9 },
    { name: 'scribe', entry: entryOf(o.root, 'scribe'), env: o.env, stopOrder: 5 },
  ];
  for (const optional of o.optional ?? ['sentinel', 'dashboard']) {
    const entry = join(o.root, 'services', optional, 'dist', 'main.js');
    if (existsSync(entry)) specs.push({ name: optional, entry, env: o.env, stopOrder: 5 });
  }
  for (const role of WORKER_ROLES) {
    const count = o.scale?.[role] ?? 1;
    for (let i = 1; i <= count; i++) {
      specs.push({
        name: count > 1 ? `${role}-${i}` : role,
        entry: entryOf(o.root, 'agent'),
        env: { ...o.env, ROLE: role },
        stopOrder: 2,
      });
    }
  }
  specs.push({ name: 'director', entry: entryOf(o.root, 'director'), env: o.env, stopOrder: 0 });
  return specs;
}
