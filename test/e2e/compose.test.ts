// docker-compose.yml, .env.example and deploy/ checked without a Docker engine: the compose rules, the env
// documentation, each service's command and environment run as a local process, the image and k8s manifests.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are docker compose's ${VAR} syntax, not templates
import { ENV_VARS, loadConfig } from '@nightshift/config';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { renderEnvExample } from '../../deploy/env-example.mjs';
import {
  envFile,
  loadCompose,
  processOptions as options,
  readRepoFile,
  repoRoot,
  servicesBuilt,
  TEST_SECRETS,
} from './support/compose-fixtures.js';
import { interpolate, parseEnvFile, referencedVariables } from './support/compose-interpolate.js';
import { checkProcesses, composeToProcesses, rewriteHost } from './support/compose-processes.js';
import {
  checkComposeRules,
  NIGHTSHIFT_SERVICES,
  REQUIRED_SERVICES,
  WORKER_ROLES,
} from './support/compose-rules.js';
import { registerComposeCliSuite } from './support/compose-suite-cli.js';
import { registerImageSuite } from './support/compose-suite-image.js';
import { registerK8sSuite } from './support/compose-suite-k8s.js';
import { registerProcessSuite } from './support/compose-suite-processes.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests reach into parsed YAML to break it on purpose
type Json = Record<string, any>;

const check = (processes: ReturnType<typeof composeToProcesses>) =>
  checkProcesses(processes, {
    repoRoot,
    workerRoles: WORKER_ROLES,
    loadConfig: (env) => loadConfig(env, { cwd: repoRoot }),
  });

describe('docker-compose.yml', () => {
  it('has every service and keeps every rule', () => {
    const doc = loadCompose();
    expect(Object.keys(doc.services as Json)).toEqual(expect.arrayContaining(REQUIRED_SERVICES));
    expect(checkComposeRules(doc)).toEqual([]);
  });

  it('runs every worker role from one image with ROLE set, scalable, and allowed to finish its task', () => {
    const services = loadCompose().services as Json;
    for (const role of WORKER_ROLES) {
      expect(services[role].image).toBe(services.director.image);
      expect(services[role].environment.ROLE).toBe(role);
      expect(services[role].container_name).toBeUndefined();
      expect(services[role].stop_grace_period).toBe('960s');
    }
    expect(services.dashboard.ports).toEqual(['127.0.0.1:${DASHBOARD_PORT:-8080}:8080']);
  });

  // Each break must be reported; the checker is what keeps the file honest in CI.
  it.each([
    ['a missing worker service', (s: Json) => delete s.scout, 'service scout is missing'],
    [
      'a worker without ROLE',
      (s: Json) => delete s.builder.environment.ROLE,
      'builder: environment must set ROLE=builder',
    ],
    [
      'a container_name on a worker',
      (s: Json) => (s.builder.container_name = 'b'),
      'container_name prevents --scale',
    ],
    [
      'a grace below the Builder timeout',
      (s: Json) => (s.builder.stop_grace_period = '600s'),
      'must exceed 900s',
    ],
    [
      'the dashboard on every interface',
      (s: Json) => (s.dashboard.ports = ['8080:8080']),
      'beyond 127.0.0.1',
    ],
    [
      'a worker publishing a port',
      (s: Json) => (s.scout.ports = ['127.0.0.1:9000:9000']),
      'scout: must not publish',
    ],
    [
      'a gateway that does not wait for the model',
      (s: Json) => (s['llm-gateway'].depends_on['ollama-pull'].condition = 'service_started'),
      'llm-gateway: must wait for ollama-pull to complete successfully',
    ],
    [
      'a restart policy other than unless-stopped',
      (s: Json) => (s.scribe.restart = 'always'),
      'scribe: restart',
    ],
    [
      'a gateway limit different from Ollama',
      (s: Json) => (s.ollama.environment.OLLAMA_NUM_PARALLEL = '${OLLAMA_NUM_PARALLEL:-4}'),
      'OLLAMA_NUM_PARALLEL must be the ollama service',
    ],
    ['a second image', (s: Json) => (s.sentinel.image = 'nightshift:old'), 'must share one image'],
    [
      'an optional dashboard token',
      (s: Json) => (s.dashboard.environment.DASHBOARD_TOKEN = ''),
      'must be required',
    ],
  ])('reports %s', (_what, breakIt, expected) => {
    const doc = loadCompose();
    breakIt(doc.services as Json);
    expect(checkComposeRules(doc).join('\n')).toContain(expected);
  });
});

describe('deploy/docker-compose.cpu.yml', () => {
  it('only resets the GPU reservation of ollama (compose !reset)', () => {
    const doc = parseDocument(readRepoFile('deploy/docker-compose.cpu.yml'));
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual({ services: { ollama: { deploy: {} } } });
    expect((doc.getIn(['services', 'ollama', 'deploy'], true) as { tag?: string }).tag).toBe('!reset');
  });
});

describe('.env.example', () => {
  const text = readRepoFile('.env.example');

  it('is generated from the config package ENV_VARS (run `node deploy/env-example.mjs --write` if not)', () => {
    expect(text).toBe(renderEnvExample(ENV_VARS));
  });

  it('documents every variable docker-compose.yml refers to, and every config variable', () => {
    const raw = parse(readRepoFile('docker-compose.yml'), { merge: true });
    const names = new Set([...referencedVariables(raw), ...ENV_VARS.map((v) => v.name)]);
    for (const name of names) {
      expect(text, `${name} has a value line`).toMatch(new RegExp(`^(# )?${name}=`, 'm'));
      // "# NAME: what it is … Default: …", possibly wrapped onto "#   " continuation lines.
      const block = new RegExp(`^# ${name}: \\S[^\\n]*(\\n#   [^\\n]*)*`, 'm').exec(text)?.[0] ?? '';
      const comment = block.replace(/\n# {3}/g, ' ');
      expect(comment, `${name} has a comment saying what it is and its default`).toMatch(/Default: /);
    }
  });

  it('ships no secret: the values a user must fill in are empty', () => {
    const values = parseEnvFile(text);
    expect(values).toEqual({ REDIS_PASSWORD: '', ANTHROPIC_API_KEY: '', DASHBOARD_TOKEN: '' });
  });
});

describe('compose interpolation and env files (pure)', () => {
  const run = (text: string, vars: Record<string, string>) => {
    const problems: string[] = [];
    return { value: interpolate(text, vars, 'x', problems), problems };
  };

  it('follows compose: defaults, required, alternatives, nesting and $$', () => {
    expect(run('${A:-d} ${B-d} ${C:-d}', { A: '', B: '' }).value).toBe('d  d');
    expect(run('${A:+alt}|${B+alt}|$A', { A: 'x', B: '' }).value).toBe('alt|alt|x');
    expect(run('${A:-${B:-deep}}', {}).value).toBe('deep');
    expect(run('$$REDIS_PASSWORD', { REDIS_PASSWORD: 'p' }).value).toBe('$REDIS_PASSWORD');
    expect(run('${A:?set A}', { A: '' }).problems).toEqual([
      'x: required variable A is missing a value: set A',
    ]);
    expect(run('${A?set A}', { A: '' }).problems).toEqual([]);
  });

  it('reads .env files like compose', () => {
    const env = parseEnvFile('# c\nA=1\nexport B="two words"\nC=x # note\nD=\'$raw\'\n\nE=');
    expect(env).toEqual({ A: '1', B: 'two words', C: 'x', D: '$raw', E: '' });
  });

  it('rewrites the host of URLs and bare addresses, keeping credentials and paths', () => {
    const hosts = { redis: '127.0.0.1:6390', ollama: '127.0.0.1', '0.0.0.0': '127.0.0.1' };
    expect(rewriteHost('redis://:pw@redis:6379/0', hosts)).toBe('redis://:pw@127.0.0.1:6390/0');
    expect(rewriteHost('http://ollama:11434', hosts)).toBe('http://127.0.0.1:11434');
    expect(rewriteHost('0.0.0.0', hosts)).toBe('127.0.0.1');
    expect(rewriteHost('http://example.com/hook', hosts)).toBe('http://example.com/hook');
  });
});

describe('compose as processes (pure)', () => {
  it('builds the environment as compose does: image ENV, then env_file, then environment, then rewrites', () => {
    const doc = {
      services: {
        db: { image: 'redis:7-alpine' },
        worker: {
          image: 'nightshift:latest',
          env_file: [
            { path: '.env', required: false },
            { path: 'missing.env', required: false },
          ],
          environment: { A: 'from-environment', URL: 'redis://:${PW:?need PW}@db:6379', HEALTH_PORT: 9464 },
        },
      },
    };
    const [worker, ...others] = composeToProcesses(doc, {
      vars: { PW: 'secret' },
      envFiles: { '.env': { A: 'from-file', B: 'from-file', HOME_DIR: '/data/home' } },
      imageEnv: { B: 'from-image', C: 'from-image' },
      imageCommand: ['node', '/app/services/worker/dist/main.js'],
      workdir: '/app',
      rewriteHosts: { db: '127.0.0.1:7000' },
      rewritePaths: { '/data': '/tmp/x' },
      localPort: (service, variable, port) =>
        service === 'worker' && variable === 'HEALTH_PORT' ? port + 1 : 0,
    });
    expect(others).toEqual([]); // only Nightshift services become processes
    expect(worker).toEqual({
      name: 'worker',
      command: ['node', 'services/worker/dist/main.js'],
      env: {
        A: 'from-environment',
        B: 'from-file',
        C: 'from-image',
        HOME_DIR: '/tmp/x/home',
        URL: 'redis://:secret@127.0.0.1:7000',
        HEALTH_PORT: '9465',
      },
      healthPort: 9465,
    });
    expect(() => composeToProcesses(doc, {})).toThrow(/required variable PW is missing a value: need PW/);
  });

  it('turns the real compose file into one process per Nightshift service, each able to start', () => {
    const processes = composeToProcesses(loadCompose(), options());
    expect(processes.map((p) => p.name).sort()).toEqual([...NIGHTSHIFT_SERVICES].sort());
    for (const p of processes) {
      expect(p.env.REDIS_URL).toBe(`redis://:${TEST_SECRETS.REDIS_PASSWORD}@127.0.0.1:6390`);
      expect(p.env.WORKSPACE_DIR).toBe('/tmp/nightshift-compose-test/workspaces');
      expect(p.env.ANTHROPIC_API_KEY ?? '').toBe(p.name === 'director' ? TEST_SECRETS.ANTHROPIC_API_KEY : '');
    }
    const byName = Object.fromEntries(processes.map((p) => [p.name, p]));
    expect(byName.builder?.command).toEqual(['node', 'services/agent/dist/main.js']);
    expect(byName['llm-gateway']?.env.OLLAMA_HOST).toBe('http://127.0.0.1:11500');
    expect(byName.dashboard?.env.DASHBOARD_HOST).toBe('127.0.0.1');
    expect(new Set(processes.map((p) => p.healthPort)).size).toBe(processes.length); // no two on one port
    expect(check(processes)).toEqual([]);
  });

  // The acceptance criterion of issue 10: a deliberate break of the compose file is caught.
  it.each([
    [
      'REDIS_URL removed from a service',
      (s: Json) => delete s.director.environment.REDIS_URL,
      'director: REDIS_URL is not set',
    ],
    [
      'a command pointing at a wrong path',
      (s: Json) => (s.director.command = ['node', 'services/directr/dist/main.js']),
      'director: command runs services/directr/dist/main.js, but services/directr/package.json does not exist',
    ],
    [
      'a command that is not the service entry',
      (s: Json) => (s.builder.command = ['node', 'services/agent/dist/index.js']),
      'builder: command runs services/agent/dist/index.js, but services/agent/package.json declares main',
    ],
    [
      'ROLE removed from a worker',
      (s: Json) => delete s.inspector.environment.ROLE,
      'inspector: ROLE must be "inspector"',
    ],
    [
      'a value the config loader refuses',
      (s: Json) => (s.scribe.environment.OLLAMA_NUM_PARALLEL = 'two'),
      'scribe: the config loader refuses its environment',
    ],
  ])('reports %s', (_what, breakIt, expected) => {
    const doc = loadCompose();
    breakIt(doc.services as Json);
    expect(check(composeToProcesses(doc, options())).join('\n')).toContain(expected);
  });

  it('refuses to run without the secrets compose requires', () => {
    const { REDIS_PASSWORD: _r, DASHBOARD_TOKEN: _d, ...rest } = envFile;
    expect(() => composeToProcesses(loadCompose(), options({ vars: rest }))).toThrow(
      /REDIS_PASSWORD is missing a value[\s\S]*DASHBOARD_TOKEN is missing a value/,
    );
  });
});

// Every service is built by `npm run build` (the test command builds first), so this suite always
// runs: a missing entry file fails it loudly instead of skipping.
describe('compose as processes: every service starts and reports healthy', () => {
  it('finds every service entry file built', () => {
    expect(servicesBuilt()).toBe(true);
  });
  registerProcessSuite();
});

registerComposeCliSuite();
registerImageSuite();
registerK8sSuite();
