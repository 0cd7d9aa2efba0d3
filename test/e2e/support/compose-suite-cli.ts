// `docker compose config` on docker-compose.yml, registered by compose.test.ts. It needs only the Docker CLI with
// the compose plugin, not an engine; where the plugin is missing, these checks are skipped with a logged reason.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} syntax, not templates
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot, TEST_SECRETS, unavailable } from './compose-fixtures.js';

export function registerComposeCliSuite(): void {
  describe('docker compose config (needs the Docker CLI compose plugin, not an engine)', () => {
    const missing = unavailable('docker', ['compose', 'version']);
    if (missing !== null) console.warn(`[compose.test] skipping \`docker compose config\`: ${missing}`);
    const compose = (env: NodeJS.ProcessEnv) =>
      spawnSync(
        'docker',
        ['compose', '-f', 'docker-compose.yml', '--env-file', '.env.example', 'config', '-q'],
        {
          cwd: repoRoot,
          encoding: 'utf8',
          timeout: 60_000,
          env,
        },
      );

    it.skipIf(missing !== null)('accepts the file with .env.example and the secrets filled in', () => {
      const result = compose({ ...process.env, ...TEST_SECRETS });
      expect(result.status, result.stderr).toBe(0);
    });

    it.skipIf(missing !== null)(
      'accepts the CPU override (deploy/docker-compose.cpu.yml) on top of it',
      () => {
        const result = spawnSync(
          'docker',
          [
            'compose',
            '-f',
            'docker-compose.yml',
            '-f',
            'deploy/docker-compose.cpu.yml',
            '--env-file',
            '.env.example',
            'config',
            '-q',
          ],
          { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...TEST_SECRETS } },
        );
        expect(result.status, result.stderr).toBe(0);
      },
    );

    it.skipIf(missing !== null)('refuses it while REDIS_PASSWORD is empty, saying what to set', () => {
      const { REDIS_PASSWORD: _r, DASHBOARD_TOKEN: _d, ...env } = process.env;
      const result = compose({ ...env, DASHBOARD_TOKEN: TEST_SECRETS.DASHBOARD_TOKEN });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/set REDIS_PASSWORD in \.env/);
    });
  });
}
