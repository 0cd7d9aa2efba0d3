// `docker compose config` on docker-compose.yml, registered by compose.test.ts. It needs only the Docker CLI with
// the compose plugin, not an engine (deploy/local-engine.sh installs it). Where the plugin is missing these
// checks are skipped with a logged reason, unless NIGHTSHIFT_REQUIRE_COMPOSE=1 (set by .ci/run once it has
// installed the plugin) makes a missing plugin a failure.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} syntax, not templates
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot, TEST_SECRETS, unavailable } from './compose-fixtures.js';

export function registerComposeCliSuite(): void {
  describe('docker compose config (needs the Docker CLI compose plugin, not an engine)', () => {
    const missing = unavailable('docker', ['compose', 'version']);
    if (missing !== null && process.env.NIGHTSHIFT_REQUIRE_COMPOSE === '1') {
      it('has the compose plugin (NIGHTSHIFT_REQUIRE_COMPOSE=1)', () => {
        throw new Error(`docker compose is required here: ${missing}`);
      });
    } else if (missing !== null) {
      console.warn(`[compose.test] skipping \`docker compose config\`: ${missing}`);
    }
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

    it.skipIf(missing !== null)(
      "accepts the container tier's override, and resolves the agents' sandbox settings and the build secret",
      () => {
        const result = spawnSync(
          'docker',
          [
            'compose',
            '-f',
            'docker-compose.yml',
            '-f',
            'test/docker/compose.test.yml',
            '--env-file',
            '.env.example',
            'config',
            '--format',
            'json',
          ],
          { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...TEST_SECRETS } },
        );
        expect(result.status, result.stderr).toBe(0);
        const config = JSON.parse(result.stdout);
        expect(config.services.builder.security_opt).toContain('systempaths=unconfined');
        expect(config.services.builder.cap_drop).toEqual(['ALL']);
        expect(config.services.director.build.secrets).toEqual([expect.objectContaining({ source: 'ca' })]);
        expect(config.services.ollama.deploy).toBeUndefined();
        expect(config.services.ollama.image).toMatch(/^nightshift:/);
      },
    );
  });
}
