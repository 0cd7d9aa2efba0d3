// Finds the Docker engine and Compose plugin the container tier runs on, or says why there is none.
// Order: DOCKER_HOST when set, else the engine deploy/local-engine.sh starts, else Docker's default socket.
// No engine fails the tier (with how to get one) unless NIGHTSHIFT_SKIP_DOCKER=1 says to skip it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOCAL_ENGINE_SOCKET = '/run/nightshift-docker.sock';

export interface Engine {
  dockerHost: string | undefined;
  serverVersion: string;
  composeVersion: string;
}

export type EngineLookup = { engine: Engine } | { missing: string };

export function findEngine(env: NodeJS.ProcessEnv = process.env): EngineLookup {
  const dockerHost =
    env.DOCKER_HOST ?? (existsSync(LOCAL_ENGINE_SOCKET) ? `unix://${LOCAL_ENGINE_SOCKET}` : undefined);
  const childEnv = { ...env, ...(dockerHost === undefined ? {} : { DOCKER_HOST: dockerHost }) };
  const version = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    env: childEnv,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (version.error !== undefined) return { missing: `no docker command (${version.error.message})` };
  if (version.status !== 0) {
    return {
      missing: `no Docker engine answers at ${dockerHost ?? 'the default socket'}: ${version.stderr.trim()}`,
    };
  }
  const compose = spawnSync('docker', ['compose', 'version', '--short'], { env: childEnv, encoding: 'utf8' });
  if (compose.status !== 0) return { missing: `no docker compose plugin: ${compose.stderr.trim()}` };
  return {
    engine: { dockerHost, serverVersion: version.stdout.trim(), composeVersion: compose.stdout.trim() },
  };
}

export const HOW_TO_GET_ONE =
  'On a Debian machine, as root: deploy/local-engine.sh (installs docker.io, Compose and buildx, starts an ' +
  'engine on /run/nightshift-docker.sock and makes the base images). To skip this tier instead, set ' +
  'NIGHTSHIFT_SKIP_DOCKER=1 and say why.';

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs docker with the given arguments; resolves with the exit code and output (never rejects on exit code). */
export function docker(
  args: string[],
  options: {
    env: NodeJS.ProcessEnv;
    input?: Buffer | string;
    timeoutMs?: number;
    onStdout?: (text: string) => void;
  },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { cwd: REPO, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like docker(), but a non-zero exit is an error that carries the command and its output. */
export async function dockerOk(
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: Buffer | string; timeoutMs?: number },
): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) {
    throw new Error(
      `docker ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`,
    );
  }
  return result.stdout;
}
