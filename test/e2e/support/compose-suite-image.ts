// Tests of the image side of the deployment (deploy/Dockerfile, .dockerignore, healthcheck.mjs,
// collect-runtime.mjs, redis.conf), registered by compose.test.ts. No Docker engine needed.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are docker compose's ${VAR} syntax, not templates
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runtimeFiles } from '../../../deploy/collect-runtime.mjs';
import { readRepoFile, repoRoot, unavailable } from './compose-fixtures.js';
import { imageDefaults, parseDockerfile } from './compose-image.js';
import { checkRedisConf } from './compose-rules.js';

/** Runs deploy/healthcheck.mjs as Docker would and returns its exit code. */
async function healthcheck(port: number): Promise<number | null> {
  const child = spawn(process.execPath, [join(repoRoot, 'deploy/healthcheck.mjs')], {
    env: { PATH: process.env.PATH ?? '', HEALTH_PORT: String(port), HEALTHCHECK_TIMEOUT_MS: '10000' },
    stdio: 'ignore',
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function listen(status: number): Promise<Server> {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? status : 404;
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Polls until something accepts TCP connections on 127.0.0.1:port (the server is up), or `gaveUp()`. */
async function untilListening(port: number, gaveUp: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (gaveUp()) throw new Error(`the server on port ${port} exited while starting`);
    const socket = connect(port, '127.0.0.1');
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false)); // refused: not up yet
    });
    socket.destroy();
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on port ${port} after 30 s`);
}

export function registerImageSuite(): void {
  // Built and started for real by the container tier (test/docker, npm run test:docker); these text checks
  // keep the rules visible where no engine runs.
  describe('deploy/Dockerfile (as text; built for real by test/docker)', () => {
    const text = readRepoFile('deploy/Dockerfile');
    const stages = parseDockerfile(text);
    const final = stages.at(-1);
    const finalText = (final?.instructions ?? []).map((i) => `${i.keyword} ${i.args}`).join('\n');

    it('is multi-stage, and the final stage runs on the Node LTS of .nvmrc as a non-root user', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      const major = readRepoFile('.nvmrc').trim();
      expect(text).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${major}-bookworm-slim$`, 'm'));
      expect(final?.from).toBe('${NODE_IMAGE}');
      const user = imageDefaults(stages).user;
      expect(user).toBeDefined();
      expect(['root', '0', '0:0']).not.toContain(user);
    });

    it('builds offline-friendly: no syntax directive (no frontend pull), an optional CA secret for npm ci', () => {
      expect(text).not.toMatch(/^#\s*syntax\s*=/im);
      const installs = stages.flatMap((s) => s.instructions).filter((i) => /npm ci/.test(i.args));
      expect(installs.length).toBe(2);
      for (const i of installs) {
        expect(i.args).toMatch(/--mount=type=secret,id=ca\b/);
        expect(i.args).toMatch(
          /if \[ -s \/run\/secrets\/ca \]; then export NODE_EXTRA_CA_CERTS=\/run\/secrets\/ca; fi/,
        );
      }
    });

    it("ships each workspace's own resolved dependencies (nested node_modules) and bubblewrap", () => {
      // prod-deps' whole /app, not only the hoisted node_modules: packages/cli/node_modules/commander.
      expect(finalText).toMatch(/^COPY --from=prod-deps \/app \.\/$/m);
      expect(finalText).toMatch(/apt-get install[^\n]*\bbubblewrap\b/);
    });

    it('has a HEALTHCHECK that runs healthcheck.mjs with node (no curl in slim images)', () => {
      const check = final?.instructions.find((i) => i.keyword === 'HEALTHCHECK');
      expect(check?.args).toMatch(/CMD \["node", "\/app\/deploy\/healthcheck\.mjs"\]/);
      expect(finalText).toMatch(/COPY deploy\/healthcheck\.mjs/);
    });

    it('installs no dev dependencies and builds nothing in the final stage', () => {
      expect(finalText).not.toMatch(/npm (ci|install|i)\b(?![^\n]*--omit=dev)/);
      expect(finalText).not.toMatch(/npm run build|tsc|turbo/);
      expect(finalText).not.toMatch(/^COPY \. /m); // no sources, only built output
      const build = stages.find((s) => s.name === 'build');
      const prod = stages.find((s) => s.name === 'prod-deps');
      const text = (s: typeof build) => (s?.instructions ?? []).map((i) => i.args).join('\n');
      expect(text(build)).toMatch(/npm ci/);
      expect(text(build)).toMatch(/npm run build/);
      expect(text(prod)).toMatch(/npm ci --omit=dev/);
    });

    it('sets NODE_ENV=production, tini as entrypoint and the director as the overridable default', () => {
      const image = imageDefaults(stages);
      expect(image.env.NODE_ENV).toBe('production');
      expect(image.env.HEALTH_PORT).toBe('9464');
      expect(image.entrypoint).toEqual(['/usr/bin/tini', '--']);
      expect(image.cmd).toEqual(['node', 'services/director/dist/main.js']);
      expect(image.workdir).toBe('/app');
    });

    it('.dockerignore keeps installed output and secrets out of the build context', () => {
      const lines = readRepoFile('.dockerignore').split('\n');
      for (const pattern of ['**/node_modules', '**/dist', '.git', '.env', '.env.*'])
        expect(lines).toContain(pattern);
      expect(lines).toContain('!test/package.json'); // npm ci needs every workspace manifest
    });
  });

  describe('deploy/healthcheck.mjs', () => {
    const servers: Server[] = [];
    afterAll(() => {
      for (const server of servers) server.close();
    });

    it('exits 0 when /healthz answers 200 and 1 when it answers 503 or nothing listens', async () => {
      const ok = await listen(200);
      const bad = await listen(503);
      servers.push(ok, bad);
      expect(await healthcheck((ok.address() as AddressInfo).port)).toBe(0);
      expect(await healthcheck((bad.address() as AddressInfo).port)).toBe(1);
      const closed = await listen(200);
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      expect(await healthcheck(port)).toBe(1);
    });
  });

  describe('deploy/collect-runtime.mjs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ns-collect-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };

    it("ships each workspace's package.json and declared files, and fails on a missing build", () => {
      write('package.json', JSON.stringify({ workspaces: ['packages/*', 'services/*', 'test'] }));
      write('packages/redis/package.json', JSON.stringify({ files: ['dist', 'lua'] }));
      write('packages/redis/dist/index.js', '');
      write('packages/redis/lua/advanceRun-3.lua', '');
      write('services/agent/package.json', JSON.stringify({ files: ['dist'] }));
      write('services/agent/dist/main.js', '');
      write('test/package.json', JSON.stringify({ name: 'suites' })); // no `files`: not shipped
      expect(runtimeFiles(dir)).toEqual([
        'package.json',
        'packages/redis/package.json',
        'packages/redis/dist',
        'packages/redis/lua',
        'services/agent/package.json',
        'services/agent/dist',
      ]);
      rmSync(join(dir, 'services/agent/dist'), { recursive: true });
      expect(() => runtimeFiles(dir)).toThrow(/services\/agent\/dist does not exist/);
    });
  });

  describe('deploy/redis.conf', () => {
    it('keeps AOF everysec, noeviction and protected mode, and holds no password', () => {
      expect(checkRedisConf(readRepoFile('deploy/redis.conf'))).toEqual([]);
      const broken = readRepoFile('deploy/redis.conf').replace(
        /^maxmemory-policy .*$/m,
        'maxmemory-policy allkeys-lru',
      );
      expect(checkRedisConf(`${broken}\nrequirepass hunter2\n`)).toEqual([
        'redis.conf: maxmemory-policy must be noeviction, got allkeys-lru',
        'redis.conf: requirepass must come from .env, not from this file',
      ]);
    });

    const noRedis = unavailable('redis-server', ['--version']);
    if (noRedis !== null) console.warn(`[compose.test] skipping the live redis.conf check: ${noRedis}`);
    let server: ChildProcess | undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'ns-redis-conf-'));
    afterAll(async () => {
      if (server !== undefined && server.exitCode === null) {
        server.kill('SIGTERM');
        await once(server, 'exit');
      }
      rmSync(dataDir, { recursive: true, force: true });
    });

    it.skipIf(noRedis !== null)(
      'is accepted by a real redis-server started as compose starts it',
      async () => {
        const probe = await listen(200); // borrow a free port
        const port = (probe.address() as AddressInfo).port;
        await new Promise((resolve) => probe.close(resolve));
        const password = 'conf0test0password';
        // As the compose command line, plus a loopback bind and a free port for this machine.
        const args = [join(repoRoot, 'deploy/redis.conf'), '--requirepass', password, '--port', String(port)];
        server = spawn('redis-server', [...args, '--bind', '127.0.0.1'], { cwd: dataDir, stdio: 'ignore' });
        await untilListening(port, () => server?.exitCode !== null);
        const client = new Redis({
          port,
          host: '127.0.0.1',
          password,
          lazyConnect: true,
          maxRetriesPerRequest: 0,
        });
        client.on('error', (error) => console.warn(`[compose.test] redis client: ${error.message}`));
        try {
          await client.connect();
          expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
          expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
          expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
          // No ready check: its INFO would hit the same NOAUTH and close the connection before our PING.
          const anonymous = new Redis({
            port,
            host: '127.0.0.1',
            lazyConnect: true,
            maxRetriesPerRequest: 0,
            enableReadyCheck: false,
          });
          anonymous.on('error', (error) => console.warn(`[compose.test] redis client: ${error.message}`));
          await anonymous.connect();
          await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
          anonymous.disconnect();
        } finally {
          client.disconnect();
        }
      },
    );
  });
}
