// Turns the Nightshift services of a parsed docker-compose.yml into local processes (command + environment,
// hosts/ports/paths rewritten to this machine) and checks that each could start: the "compose as processes" check.
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { interpolateDeep, type Vars } from './compose-interpolate.js';

export interface ServiceProcess {
  /** The compose service name. */
  name: string;
  /** argv; command[0] is `node`, the paths are relative to the repo root. */
  command: string[];
  env: Record<string, string>;
  /** HEALTH_PORT after rewriting, when set. */
  healthPort: number | undefined;
}

export interface ComposeToProcessesOptions {
  /** Compose interpolation variables: what `.env` / `--env-file` and the shell would give. */
  vars?: Vars;
  /** Contents of the files named in `env_file`, keyed by the path as written there (e.g. `.env`). */
  envFiles?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The image's ENV (see imageDefaults), the base of every container's environment. */
  imageEnv?: Readonly<Record<string, string>>;
  /** The image's CMD, used when a service has no `command`. */
  imageCommand?: readonly string[];
  /** The image's WORKDIR: an absolute command path under it is made relative to the repo root. */
  workdir?: string;
  /** Compose host name → `host` or `host:port` on this machine, e.g. `{ redis: '127.0.0.1:6390' }`. */
  rewriteHosts?: Readonly<Record<string, string>>;
  /** Container directory → local directory, e.g. `{ '/data': '/tmp/x' }` (applied to whole values). */
  rewritePaths?: Readonly<Record<string, string>>;
  /** Local port for a port variable of a service (so ten processes don't all take 9464). */
  localPort?: (service: string, variable: string, containerPort: number) => number;
  /** Variables holding a port the process listens on (default HEALTH_PORT, DASHBOARD_PORT). */
  portVariables?: readonly string[];
}

export class ComposeError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`docker-compose.yml cannot be run as processes:\n- ${problems.join('\n- ')}`);
    this.name = 'ComposeError';
  }
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

/** A Nightshift service runs the nightshift image (or builds it from deploy/Dockerfile). */
export function isNightshiftService(service: unknown): boolean {
  const s = asObject(service);
  const image = typeof s.image === 'string' ? s.image : '';
  const dockerfile = asObject(s.build).dockerfile;
  return (
    /^nightshift(:|$)/.test(image) ||
    (typeof dockerfile === 'string' && dockerfile.endsWith('deploy/Dockerfile'))
  );
}

/** Compose `environment` in map or list form → map; a bare key takes its value from `vars` (or is dropped). */
export function environmentOf(service: unknown, vars: Vars = {}): Record<string, string> {
  const environment = asObject(service).environment;
  const env: Record<string, string> = {};
  const put = (key: string, value: unknown) => {
    if (value === null || value === undefined) {
      const fromShell = vars[key];
      if (fromShell !== undefined) env[key] = fromShell;
    } else {
      env[key] = String(value);
    }
  };
  if (Array.isArray(environment)) {
    for (const item of environment) {
      const text = String(item);
      const eq = text.indexOf('=');
      if (eq === -1) put(text, null);
      else put(text.slice(0, eq), text.slice(eq + 1));
    }
  } else {
    for (const [key, value] of Object.entries(asObject(environment))) put(key, value);
  }
  return env;
}

function envFileEntries(service: Json): Array<{ path: string; required: boolean }> {
  const raw = service.env_file;
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((item) =>
    typeof item === 'string'
      ? { path: item, required: true }
      : { path: String(asObject(item).path), required: asObject(item).required !== false },
  );
}

const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?(\[[^\]]*\]|[^:/?#]+)(:\d+)?/i;

/** Rewrites the host (and, when the target has one, the port) of a URL or of a bare `host[:port]` value. */
export function rewriteHost(value: string, hosts: Readonly<Record<string, string>>): string {
  const url = AUTHORITY.exec(value);
  if (url !== null) {
    const target = hosts[url[3] as string];
    if (target === undefined) return value;
    const port = target.includes(':') ? '' : (url[4] ?? '');
    return `${url[1]}${url[2] ?? ''}${target}${port}${value.slice(url[0].length)}`;
  }
  const bare = /^([^:/\s]+)(:\d+)?$/.exec(value);
  if (bare !== null) {
    const target = hosts[bare[1] as string];
    if (target === undefined) return value;
    return target.includes(':') ? target : `${target}${bare[2] ?? ''}`;
  }
  return value;
}

function rewritePath(value: string, paths: Readonly<Record<string, string>>): string {
  for (const [from, to] of Object.entries(paths)) {
    if (value === from) return to;
    if (value.startsWith(`${from}/`)) return `${to}${value.slice(from.length)}`;
  }
  return value;
}

function commandOf(
  name: string,
  service: Json,
  options: ComposeToProcessesOptions,
  problems: string[],
): string[] {
  if (service.entrypoint !== undefined)
    problems.push(`${name}: sets an entrypoint; the image's (tini) is expected`);
  const raw = service.command ?? options.imageCommand;
  let command: string[];
  if (Array.isArray(raw)) command = raw.map(String);
  else if (typeof raw === 'string') command = raw.split(/\s+/).filter((part) => part !== '');
  else {
    problems.push(`${name}: no command and no image default command`);
    return [];
  }
  const workdir = options.workdir?.replace(/\/$/, '');
  return command.map((part) =>
    workdir !== undefined && part.startsWith(`${workdir}/`) ? part.slice(workdir.length + 1) : part,
  );
}

/**
 * Each Nightshift service of a parsed (merge keys resolved) compose document as a local process.
 * Environment = image ENV ← env_file ← `environment`, as in compose, then hosts, ports and paths
 * rewritten. @throws ComposeError when compose itself would refuse (a required variable unset,
 * a required env_file missing, no command).
 */
export function composeToProcesses(
  composeDoc: unknown,
  options: ComposeToProcessesOptions = {},
): ServiceProcess[] {
  const problems: string[] = [];
  const vars = options.vars ?? {};
  // Only `services`: the x- anchors are already merged into them, and would repeat every message.
  const services = asObject(interpolateDeep(asObject(composeDoc).services, vars, problems, 'services'));
  const portVariables = options.portVariables ?? ['HEALTH_PORT', 'DASHBOARD_PORT'];
  const processes: ServiceProcess[] = [];
  for (const [name, raw] of Object.entries(services)) {
    if (!isNightshiftService(raw)) continue;
    const service = asObject(raw);
    const env: Record<string, string> = { ...options.imageEnv };
    for (const file of envFileEntries(service)) {
      const content = options.envFiles?.[file.path];
      if (content === undefined && file.required) problems.push(`${name}: env_file ${file.path} not found`);
      Object.assign(env, content);
    }
    Object.assign(env, environmentOf(service, vars));
    for (const [key, value] of Object.entries(env)) {
      let next = rewriteHost(value, options.rewriteHosts ?? {});
      next = rewritePath(next, options.rewritePaths ?? {});
      if (portVariables.includes(key) && options.localPort !== undefined && /^\d+$/.test(next)) {
        next = String(options.localPort(name, key, Number(next)));
      }
      env[key] = next;
    }
    const command = commandOf(name, service, options, problems);
    const healthPort = /^\d+$/.test(env.HEALTH_PORT ?? '') ? Number(env.HEALTH_PORT) : undefined;
    processes.push({ name, command, env, healthPort });
  }
  if (problems.length > 0) throw new ComposeError(onePerCause(problems));
  return processes;
}

/** The same unset variable is reported by every service using it; keep its first report only. */
function onePerCause(problems: readonly string[]): string[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const cause = problem.slice(problem.indexOf(': ') + 2);
    if (seen.has(cause)) return false;
    seen.add(cause);
    return true;
  });
}

export interface CheckProcessesOptions {
  repoRoot: string;
  /** Worker roles: the services of these names must set ROLE to their own name. */
  workerRoles: readonly string[];
  /** Also require the entry file itself (set once the services are built). */
  requireBuilt?: boolean;
  /** The real config loader; it throws (ConfigError) on a value a service would refuse at start. */
  loadConfig?: (env: Record<string, string>) => unknown;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const problems = (error as { problems?: unknown }).problems;
    return Array.isArray(problems) ? `${error.message} ${JSON.stringify(problems)}` : error.message;
  }
  return String(error);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** What would stop one of these processes from starting, one message per problem (empty = all good). */
export function checkProcesses(
  processes: readonly ServiceProcess[],
  options: CheckProcessesOptions,
): string[] {
  const problems: string[] = [];
  for (const { name, command, env } of processes) {
    const [program, script] = command;
    if (program !== 'node' || script === undefined) {
      problems.push(
        `${name}: command must be ["node", "services/<service>/dist/main.js"], got ${JSON.stringify(command)}`,
      );
    } else {
      problems.push(...checkEntry(name, script, options));
    }
    if ((env.REDIS_URL ?? '') === '') problems.push(`${name}: REDIS_URL is not set`);
    if (!/^\d+$/.test(env.HEALTH_PORT ?? '')) problems.push(`${name}: HEALTH_PORT is not set to a port`);
    if (options.workerRoles.includes(name) && env.ROLE !== name) {
      problems.push(`${name}: ROLE must be ${JSON.stringify(name)}, got ${JSON.stringify(env.ROLE ?? null)}`);
    }
    if (name === 'llm-gateway' && (env.OLLAMA_HOST ?? '') === '')
      problems.push(`${name}: OLLAMA_HOST is not set`);
    const host = env.DASHBOARD_HOST ?? '127.0.0.1';
    if (name === 'dashboard' && !LOOPBACK.has(host) && (env.DASHBOARD_TOKEN ?? '').length < 16) {
      problems.push(
        `${name}: DASHBOARD_HOST=${host} is not loopback, so DASHBOARD_TOKEN (16+ chars) is required`,
      );
    }
    if (options.loadConfig !== undefined) {
      try {
        options.loadConfig(env);
      } catch (error) {
        problems.push(`${name}: the config loader refuses its environment: ${describeError(error)}`);
      }
    }
  }
  return problems;
}

/** The entry file must be a service's declared `main` (tsc builds src/main.ts to it). */
function checkEntry(name: string, script: string, options: CheckProcessesOptions): string[] {
  const match = /^services\/([^/]+)\/(.+)$/.exec(posix.normalize(script));
  if (match === null) return [`${name}: command runs ${script}, which is not under services/<service>/`];
  const [, dir, file] = match as unknown as [string, string, string];
  const manifestPath = join(options.repoRoot, 'services', dir, 'package.json');
  if (!existsSync(manifestPath)) {
    return [`${name}: command runs ${script}, but services/${dir}/package.json does not exist`];
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { main?: unknown };
  const main = typeof manifest.main === 'string' ? posix.normalize(manifest.main) : undefined;
  if (main !== file) {
    return [
      `${name}: command runs ${script}, but services/${dir}/package.json declares main ${JSON.stringify(main)}`,
    ];
  }
  if (options.requireBuilt === true && !existsSync(join(options.repoRoot, script))) {
    return [`${name}: ${script} does not exist (run the build)`];
  }
  return [];
}
