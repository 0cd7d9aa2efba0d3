// The container tier (issue 19): builds deploy/Dockerfile, starts docker-compose.yml for real with the test
// override (simulated model, no GPU, other host ports), and checks what a user of `docker compose up` relies
// on: the image's CLI and entry files start, every service turns healthy, a run finishes with the image's
// own `nightshift run --wait` while builders are scaled and restarted (nothing answered twice), runs and
// checkpoints survive `down` + `up`, and the agents' settings let bubblewrap sandbox a command.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerOk, type Engine, findEngine, HOW_TO_GET_ONE, REPO } from './engine.js';
import { countAnswers, readRun, SERVICES, waitHealthy } from './stack-support.js';

const lookup = findEngine();
const skip = process.env.NIGHTSHIFT_SKIP_DOCKER === '1';
if ('missing' in lookup) {
  if (skip) console.warn(`[docker tier] SKIPPED (NIGHTSHIFT_SKIP_DOCKER=1): ${lookup.missing}`);
  else console.error(`[docker tier] no engine: ${lookup.missing}\n${HOW_TO_GET_ONE}`);
}
const engine: Engine | undefined = 'engine' in lookup ? lookup.engine : undefined;

const TASK =
  'The sum() function in src/sum.js gives wrong totals and `npm test` fails. Find the bug, fix it without changing the API, and make the tests pass.';
const PROJECT = 'nightshift-test';
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const NODE_MAJOR = readFileSync(join(REPO, '.nvmrc'), 'utf8').trim();
// What docs/benchmarks.md reports, written to test-artifacts/docker-tier.json with the load of the machine.
const figures: Record<string, number | string> = {};
// The sandbox escape suite (issue 17), run again inside an agent container by the test below.
const ESCAPE_SUITE = ['e2e/sandbox-escape.test.ts', 'e2e/sandbox-contain.test.ts'];
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

describe.skipIf(skip && engine === undefined)('docker compose up, for real (test/docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-docker-'));
  const envFile = join(dir, 'test.env');
  let env: NodeJS.ProcessEnv = {};
  let redisUrl = '';
  let runId = '';
  const compose = (...args: string[]) => [
    'compose',
    '-p',
    PROJECT,
    '-f',
    'docker-compose.yml',
    '-f',
    'test/docker/compose.test.yml',
    '--env-file',
    envFile,
    ...args,
  ];

  beforeAll(async () => {
    if (engine === undefined) throw new Error(`no Docker engine for the container tier. ${HOW_TO_GET_ONE}`);
    console.log(`[docker tier] engine ${engine.serverVersion}, compose ${engine.composeVersion}`);
    const password = 'testpassword0123456789';
    const redisPort = await freePort();
    writeFileSync(envFile, `REDIS_PASSWORD=${password}\nDASHBOARD_TOKEN=test-dashboard-token-0123456789\n`);
    env = {
      ...process.env,
      ...(engine.dockerHost === undefined ? {} : { DOCKER_HOST: engine.dockerHost }),
      NIGHTSHIFT_VERSION: 'test',
      DASHBOARD_PORT: String(await freePort()),
      NIGHTSHIFT_TEST_REDIS_PORT: String(redisPort),
      // The build trusts the system's CA bundle (here npm reaches the registry through a TLS proxy whose CA
      // is in it), unless NIGHTSHIFT_BUILD_CA names another; none when there is no bundle.
      NIGHTSHIFT_BUILD_CA:
        process.env.NIGHTSHIFT_BUILD_CA ?? (existsSync(SYSTEM_CA_BUNDLE) ? SYSTEM_CA_BUNDLE : '/dev/null'),
    };
    redisUrl = `redis://:${password}@127.0.0.1:${redisPort}`;
    await docker(compose('down', '-v', '--remove-orphans', '-t', '5'), { env });
  });

  afterAll(async () => {
    if (engine !== undefined && process.env.NIGHTSHIFT_KEEP_DOCKER !== '1') {
      const down = await docker(compose('down', '-v', '--remove-orphans', '-t', '10'), { env });
      if (down.code !== 0) console.error(`[docker tier] down failed: ${down.stderr}`);
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
    const record = { ...figures, loadavg1m: loadavg()[0] ?? 0, nproc: availableParallelism() };
    writeFileSync(join(REPO, 'test-artifacts', 'docker-tier.json'), `${JSON.stringify(record, null, 2)}\n`);
    console.log(`[docker tier] figures: ${JSON.stringify(record)}`);
  });

  it('builds the image on the chosen Node LTS', async () => {
    const started = Date.now();
    await dockerOk(compose('build', 'director'), { env, timeoutMs: 1_200_000 });
    figures.buildSeconds = seconds(started);
    console.log(`[docker tier] image built in ${figures.buildSeconds} s`);
    const version = await dockerOk(['run', '--rm', 'nightshift:test', 'node', '--version'], { env });
    expect(version.trim()).toMatch(new RegExp(`^v${NODE_MAJOR}\\.`));
    const size = await dockerOk(['image', 'inspect', 'nightshift:test', '--format', '{{.Size}}'], { env });
    console.log(
      `[docker tier] nightshift:test is ${(Number(size) / 1e6).toFixed(0)} MB, node ${version.trim()}`,
    );
  });

  it('runs the nightshift CLI and loads every entry file in the image', async () => {
    const help = await dockerOk(['run', '--rm', 'nightshift:test', 'nightshift', '--help'], { env });
    expect(help).toMatch(/Usage: nightshift/);
    for (const service of ['llm-gateway', 'director', 'scribe', 'sentinel', 'dashboard', 'agent']) {
      // A bad setting stops a service at its config check, after every import resolved (ESM links the
      // whole graph first): exit 1 naming the variable, not a SyntaxError or a missing module.
      const result = await docker(
        ['run', '--rm', '-e', 'OLLAMA_NUM_PARALLEL=zero', '-e', 'ROLE=builder', 'nightshift:test'].concat([
          'node',
          `services/${service}/dist/main.js`,
        ]),
        { env, timeoutMs: 60_000 },
      );
      const output = result.stdout + result.stderr;
      expect(output, service).not.toMatch(/SyntaxError|ERR_MODULE_NOT_FOUND|Cannot find/);
      expect(output, service).toMatch(/OLLAMA_NUM_PARALLEL/);
      expect(result.code, service).not.toBe(0);
    }
  });

  it('starts every service and each one turns healthy', async () => {
    const started = Date.now();
    await dockerOk(compose('up', '-d'), { env, timeoutMs: 300_000 });
    await waitHealthy((...a) => docker(compose(...a), { env }), SERVICES, 240_000);
    figures.coldStartToHealthySeconds = seconds(started);
    console.log(`[docker tier] cold start to all healthy: ${figures.coldStartToHealthySeconds} s`);
    const status = await dockerOk(compose('exec', '-T', 'director', 'nightshift', 'status', '--json'), {
      env,
    });
    expect(() => JSON.parse(status)).not.toThrow();
  });

  it("lets bubblewrap sandbox a command in an agent container (the agents' security_opt)", async () => {
    const bwrap = ['bwrap', '--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc'];
    const out = await dockerOk(
      compose('exec', '-T', 'builder', ...bwrap, '--dev', '/dev', 'sh', '-c', 'id -u; echo $$'),
      { env },
    );
    // uid 1000 (the image's node user) and PID 1 or 2 inside its own PID namespace.
    expect(out.trim().split('\n')).toEqual(['1000', expect.stringMatching(/^[12]$/)]);
    // And the agents' own sandbox (packages/tools), as `nightshift preflight` probes it in that container.
    const preflight = await docker(compose('exec', '-T', 'builder', 'nightshift', 'preflight', '--json'), {
      env,
    });
    const checks: { name: string; ok: boolean; required: boolean; detail: string }[] = JSON.parse(
      preflight.stdout,
    ).checks;
    const sandbox = checks.find((c) => c.name.startsWith('command sandbox'));
    console.log(`[docker tier] builder's sandbox: ${sandbox?.detail}`);
    expect(sandbox?.detail).toMatch(/^bubblewrap \(/);
  });

  it('passes the sandbox escape suite inside an agent container, with the compose settings', async () => {
    // The host's list of the suite's tests: the container must pass every one of them, none skipped.
    const results = mkdtempSync(join(tmpdir(), 'nightshift-escape-'));
    chmodSync(results, 0o777); // written by the container's uid 1000
    const listFile = join(results, 'host-list.json');
    await new Promise<void>((resolve, reject) => {
      const vitest = join(REPO, 'node_modules/vitest/vitest.mjs');
      // `--json=<file>`: a bare `--json` would take the next argument as its output file.
      const child = spawn(process.execPath, [vitest, 'list', `--json=${listFile}`, ...ESCAPE_SUITE], {
        cwd: join(REPO, 'test'),
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`vitest list exited ${code}`))));
    });
    const expected = (JSON.parse(readFileSync(listFile, 'utf8')) as { name: string }[]).map((t) => t.name);
    expect(expected.length).toBeGreaterThanOrEqual(25);
    try {
      // `compose run builder`: the builder's image, user, environment (REDIS_URL of the compose Redis),
      // volumes and security_opt, with this repository read-only at /suite for the suite and vitest.
      const run = await docker(
        compose(
          'run',
          '--rm',
          '--no-deps',
          '-T',
          '-v',
          `${REPO}:/suite:ro`,
          '-v',
          `${results}:/results`,
          'builder',
          'node',
          '/suite/node_modules/vitest/vitest.mjs',
          'run',
          '--config',
          '/suite/test/docker/escape-in-image.config.mjs',
          '--configLoader',
          'native',
        ),
        { env, timeoutMs: 900_000 },
      );
      const file = join(results, 'escape-suite.json');
      expect(
        existsSync(file),
        `no results from the container:\n${run.stdout.slice(-3000)}${run.stderr}`,
      ).toBe(true);
      const report = JSON.parse(readFileSync(file, 'utf8')) as {
        testResults: { assertionResults: { title: string; fullName: string; status: string }[] }[];
      };
      const tests = report.testResults.flatMap((f) => f.assertionResults);
      const notPassed = tests.filter((t) => t.status !== 'passed').map((t) => `${t.fullName}: ${t.status}`);
      expect(notPassed, run.stdout.slice(-6000)).toEqual([]);
      // fullName is "<describe> <title>"; list names are "<describe> > <title>".
      expect(tests.map((t) => t.fullName).sort()).toEqual(expected.map((n) => n.replace(' > ', ' ')).sort());
      expect(run.code).toBe(0);
      figures.escapeSuiteInImage = `${tests.length} passed`;
      console.log(
        `[docker tier] escape suite in the builder container: ${tests.length} of ${expected.length} passed`,
      );
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  });

  it('finishes a run with the image CLI while builders scale to 3 and restart, answering nothing twice', async () => {
    const sample = join(REPO, 'examples', 'sample-workspace');
    const tar = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const child = spawn('tar', ['-C', sample, '-c', '.']);
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`tar ${code}`)),
      );
    });
    await dockerOk(
      compose(
        'exec',
        '-T',
        'director',
        'sh',
        '-c',
        'mkdir -p /data/workspaces/sample && tar -x -C /data/workspaces/sample',
      ),
      { env, input: tar },
    );
    // The run id is the first line of `run --wait`; scale and restart while the run is under way.
    let announce: (id: string) => void = () => undefined;
    const announced = new Promise<string>((resolve) => {
      announce = resolve;
    });
    const runStarted = Date.now();
    const run = docker(
      compose(
        'exec',
        '-T',
        'director',
        'nightshift',
        'run',
        TASK,
        '--title',
        'container tier',
        '--workspace',
        '/data/workspaces/sample',
        '--wait',
      ),
      {
        env,
        timeoutMs: 900_000,
        onStdout: (text) => {
          if (text.includes('\n')) announce(text.split('\n')[0]?.trim() ?? '');
        },
      },
    );
    runId = await Promise.race([
      announced,
      run.then((r) => Promise.reject(new Error(`run ended early: ${r.stdout}${r.stderr}`))),
    ]);
    await dockerOk(compose('up', '-d', '--no-recreate', '--scale', 'builder=3', 'builder'), {
      env,
      timeoutMs: 300_000,
    });
    const before = await readRun(redisUrl, runId);
    await dockerOk(compose('restart', 'builder'), { env, timeoutMs: 1_200_000 });
    console.log(`[docker tier] run ${runId} was ${before.status} when the builders restarted`);
    expect(before.status).not.toMatch(/finished|failed|aborted/);
    const result = await run;
    figures.runSeconds = seconds(runStarted);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout.split('\n')[0]?.trim()).toBe(runId);

    const state = await readRun(redisUrl, runId);
    expect(state.status).toBe('finished');
    const answers = await countAnswers(redisUrl, runId);
    expect(answers.requests).toBeGreaterThan(0);
    expect(answers.duplicated).toEqual([]);
    expect(state.stepsCompletedTwice).toEqual([]);
    const builders = await dockerOk(compose('ps', '-q', 'builder'), { env });
    expect(builders.trim().split('\n')).toHaveLength(3);
    // The fix is on the run's own checkout; the workspace the run was given stays as it was.
    expect(state.checkoutCwd).toBeDefined();
    await dockerOk(compose('exec', '-T', 'director', 'sh', '-c', `cd '${state.checkoutCwd}' && npm test`), {
      env,
    });
  });

  it('keeps runs and checkpoints across down and up with the same volumes', async () => {
    expect(runId).not.toBe('');
    const list = `ls /data/memory/${runId}/checkpoints`;
    const checkpoints = (await dockerOk(compose('exec', '-T', 'scribe', 'sh', '-c', list), { env })).trim();
    expect(checkpoints).toMatch(/CP-1\.md/);
    await dockerOk(compose('down', '-t', '30'), { env, timeoutMs: 600_000 });
    const started = Date.now();
    await dockerOk(compose('up', '-d'), { env, timeoutMs: 300_000 });
    await waitHealthy((...a) => docker(compose(...a), { env }), SERVICES, 240_000);
    figures.restartToHealthySeconds = seconds(started);
    expect((await readRun(redisUrl, runId)).status).toBe('finished');
    const runs = JSON.parse(
      await dockerOk(compose('exec', '-T', 'director', 'nightshift', 'runs', '--json'), { env }),
    );
    expect(runs.map((r: { runId?: string; id?: string }) => r.runId ?? r.id)).toContain(runId);
    expect((await dockerOk(compose('exec', '-T', 'scribe', 'sh', '-c', list), { env })).trim()).toBe(
      checkpoints,
    );
  });
});
