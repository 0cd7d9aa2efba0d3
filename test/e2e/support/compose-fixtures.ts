// Shared inputs of the deployment tests: the repo's files, test secrets, and which external tools exist here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { imageDefaults, parseDockerfile } from './compose-image.js';
import { parseEnvFile } from './compose-interpolate.js';
import type { ComposeToProcessesOptions } from './compose-processes.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

/**
 * docker-compose.yml with merge keys resolved, as plain JSON: every service gets its own copies of the
 * anchored maps, so a test can break one service without touching the others.
 */
export function loadCompose(): Record<string, unknown> {
  const doc: unknown = parse(readRepoFile('docker-compose.yml'), { merge: true });
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

export function loadEnvExample(): Record<string, string> {
  return parseEnvFile(readRepoFile('.env.example'));
}

/** What a user fills into .env; test values only. */
export const TEST_SECRETS = Object.freeze({
  REDIS_PASSWORD: 'compose0test0password',
  DASHBOARD_TOKEN: 'compose-test-dashboard-token-0123',
  ANTHROPIC_API_KEY: 'sk-ant-test-not-a-real-key',
});

/** .env as a user fills it in: .env.example plus the secrets. */
export const envFile: Readonly<Record<string, string>> = Object.freeze({
  ...loadEnvExample(),
  ...TEST_SECRETS,
});

export const image = imageDefaults(parseDockerfile(readRepoFile('deploy/Dockerfile')));

/**
 * composeToProcesses options for the real files: .env = envFile, the image's ENV/CMD/WORKDIR, and fixed
 * fake local addresses (nothing listens there; the process suite overrides them with real ones).
 */
export function processOptions(
  overrides: Partial<ComposeToProcessesOptions> = {},
): ComposeToProcessesOptions {
  let nextPort = 40_000;
  return {
    vars: envFile,
    envFiles: { '.env': envFile },
    imageEnv: image.env,
    imageCommand: image.cmd ?? [],
    ...(image.workdir === undefined ? {} : { workdir: image.workdir }),
    rewriteHosts: { redis: '127.0.0.1:6390', ollama: '127.0.0.1:11500', '0.0.0.0': '127.0.0.1' },
    rewritePaths: { '/data': '/tmp/nightshift-compose-test' },
    localPort: () => nextPort++,
    ...overrides,
  };
}

/** `null` when `command args…` runs and exits 0 here; otherwise why not (for the skip log line). */
export function unavailable(command: string, args: readonly string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined) return `${command} ${args.join(' ')}: ${result.error.message}`;
  if (result.status !== 0) {
    const said = `${result.stderr}${result.stdout}`.trim().split('\n')[0] ?? '';
    return `${command} ${args.join(' ')} exited ${result.status}: ${said}`;
  }
  return null;
}

/** Every service's entry file exists (`services/<name>/dist/main.js`), i.e. the services are built. */
export function servicesBuilt(): boolean {
  const dir = join(repoRoot, 'services');
  const services = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
  return services.length > 0 && services.every((d) => existsSync(join(dir, d.name, 'dist', 'main.js')));
}
