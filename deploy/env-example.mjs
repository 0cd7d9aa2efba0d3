// Renders .env.example from @nightshift/config's ENV_VARS (so the documented defaults can't drift from the
// code) plus the few variables only docker compose reads. test/e2e/compose.test.ts fails when they differ.
//   node deploy/env-example.mjs --write    # regenerate .env.example (needs packages/config built)
//   node deploy/env-example.mjs --check    # exit 1 if .env.example is out of date
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are docker compose's ${VAR} syntax, not templates
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Variables read by docker-compose.yml or the image, not by the config package. */
export const COMPOSE_VARS = Object.freeze([
  {
    name: 'REDIS_PASSWORD',
    description:
      'Password of the compose Redis (requirepass); docker compose puts it into REDIS_URL of every container. ' +
      'Use letters and digits only, it becomes part of a URL: e.g. `openssl rand -hex 32`',
    secret: 'value',
  },
  {
    name: 'NIGHTSHIFT_VERSION',
    description: 'Tag of the nightshift image that compose builds and runs',
    default: 'latest',
  },
  { name: 'OLLAMA_IMAGE_TAG', description: 'Tag of the ollama/ollama image', default: 'latest' },
  {
    name: 'OLLAMA_KV_CACHE_TYPE',
    description:
      'KV cache type of the compose Ollama (f16, q8_0, q4_0); q8_0 fits 2 × 8192 tokens beside qwen3:32b in 24 GB (docs/operations.md)',
    default: 'q8_0',
  },
  {
    name: 'NIGHTSHIFT_BUILD_CA',
    description:
      'CA bundle (PEM file) the image build trusts for the npm registry, for a TLS-intercepting proxy, e.g. ' +
      '/etc/ssl/certs/ca-certificates.crt. Handed to the build as the secret `ca`; never stored in the image',
    default: '/dev/null (none)',
  },
  {
    name: 'NIGHTSHIFT_WORKSPACES',
    description:
      'What is mounted at /data/workspaces: the named volume, or a host folder (./path or /path) writable by uid 1000',
    default: 'workspaces',
  },
  {
    name: 'NIGHTSHIFT_MEMORY',
    description:
      'What is mounted at /data/memory (team-state.md, checkpoints, alerts): volume name or host folder',
    default: 'memory',
  },
  {
    name: 'HEALTH_PORT',
    description:
      'Port on which each service answers GET /healthz (the image HEALTHCHECK and k8s probes use it). ' +
      'Not (yet) one of the config package variables',
    default: '9464 in the image',
  },
]);

/** Values docker-compose.yml sets itself for each container (the .env value only applies on the host). */
const SET_BY_COMPOSE = {
  REDIS_URL: 'redis://:${REDIS_PASSWORD}@redis:6379',
  OLLAMA_HOST: 'http://ollama:11434',
  ROLE: 'the worker role of each agent service; empty for the other services',
  WORKSPACE_DIR: '/data/workspaces',
  MEMORY_DIR: '/data/memory',
  HEALTH_PORT: '9464 (the image HEALTHCHECK calls it)',
  HEALTH_HOST:
    '127.0.0.1 (the HEALTHCHECK runs inside the container; deploy/k8s uses 0.0.0.0 for the kubelet)',
  DASHBOARD_HOST: '0.0.0.0 in the dashboard container (published on 127.0.0.1 only)',
  DASHBOARD_PORT: '8080 inside the dashboard container; this value is the port published on 127.0.0.1',
};

/** Uncommented in the example: what a user is expected to fill in. */
const FILL_IN = new Set(['REDIS_PASSWORD', 'DASHBOARD_TOKEN', 'ANTHROPIC_API_KEY']);
/** Required by docker-compose.yml (`${VAR:?…}`): compose refuses to start without them. */
const REQUIRED_BY_COMPOSE = new Set(['REDIS_PASSWORD', 'DASHBOARD_TOKEN']);

const SECTIONS = [
  ['compose', 'docker compose only'],
  ['file', 'Config file'],
  ['redis', 'Redis'],
  ['ollama', 'Ollama (worker agents, through llm-gateway)'],
  ['anthropic', 'Anthropic (the Director)'],
  ['process', 'This process'],
  ['health', 'Health endpoint (GET /healthz)'],
  ['director', 'Director'],
  ['roles', 'Per-role settings (guide §7); ROLE_<SETTING>_<ROLE>'],
  ['queues', 'BullMQ queues'],
  ['heartbeat', 'Heartbeats'],
  ['dashboard', 'Dashboard'],
  ['alerts', 'Alerts'],
];

function sectionOf(variable) {
  const head = variable.path?.[0];
  if (head === undefined) return 'file';
  if (['role', 'workspaceDir', 'memoryDir', 'logLevel'].includes(head)) return 'process';
  return head;
}

/** A default that is prose ("the Director role timeout (120000)") is documented but not written as a value. */
function literal(value) {
  return value !== undefined && !/\s/.test(value) ? value : '';
}

const SECRET_NOTE = {
  value: 'secret',
  credentials: 'secret if it holds a password',
  'url-path': 'secret: it may carry a token',
};

/** Word-wraps one comment at 110 columns, continuation lines indented under the text. */
function comment(text) {
  const lines = [];
  let line = '#';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > 110 && line !== '#' && line !== '#  ') {
      lines.push(line);
      line = '#  ';
    }
    line = `${line} ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

function entry(variable) {
  const notes = [
    REQUIRED_BY_COMPOSE.has(variable.name) ? 'required by docker compose' : undefined,
    variable.secret === undefined ? undefined : SECRET_NOTE[variable.secret],
  ].filter((note) => note !== undefined);
  const def = variable.default === undefined ? 'unset' : variable.default;
  let text = `${variable.name}: ${variable.description}. Default: ${def}.`;
  if (notes.length > 0) text += ` [${notes.join('; ')}]`;
  const composeValue = SET_BY_COMPOSE[variable.name];
  if (composeValue !== undefined) text += ` docker compose sets it per container: ${composeValue}.`;
  if (variable.name.startsWith('ROLE_TIMEOUT_')) {
    text += " Under docker compose, keep the agents' stop_grace_period (960s) above the longest timeout.";
  }
  const value = FILL_IN.has(variable.name)
    ? `${variable.name}=`
    : `# ${variable.name}=${literal(variable.default)}`;
  return `${comment(text)}\n${value}`;
}

/**
 * @param {ReadonlyArray<{name: string, description: string, default?: string, secret?: string, path?: readonly (string|number)[]}>} envVars
 *   the config package's ENV_VARS
 * @returns {string} the whole .env.example
 */
export function renderEnvExample(envVars) {
  const known = new Set(envVars.map((v) => v.name));
  const sections = [...SECTIONS];
  for (const variable of envVars) {
    // A config section this script does not know yet still gets documented, under its own name.
    const key = sectionOf(variable);
    if (!sections.some(([k]) => k === key)) sections.push([key, key]);
  }
  const bySection = new Map(sections.map(([key]) => [key, []]));
  for (const variable of COMPOSE_VARS) {
    if (known.has(variable.name)) continue; // config took it over: document it once, from there
    bySection.get('compose').push(entry(variable));
  }
  for (const variable of envVars) {
    bySection.get(sectionOf(variable)).push(entry(variable));
  }
  const header = [
    '# Nightshift environment. Copy to .env and fill in the uncommented lines:',
    '#   cp .env.example .env',
    '# docker compose reads .env for ${…} in docker-compose.yml and hands it to every container',
    '# (env_file); `nightshift up` and the services on the host read the same variables.',
    '# A commented line shows the default; uncomment it to change the value. Empty means unset.',
    '# GENERATED by `node deploy/env-example.mjs --write` from @nightshift/config ENV_VARS: edit there.',
  ].join('\n');
  const body = sections
    .filter(([key]) => (bySection.get(key) ?? []).length > 0)
    .map(([key, title]) => `# ===== ${title} =====\n\n${bySection.get(key).join('\n\n')}`);
  return `${header}\n\n${body.join('\n\n')}\n`;
}

async function main(args) {
  const { ENV_VARS } = await import('@nightshift/config');
  const target = fileURLToPath(new URL('../.env.example', import.meta.url));
  const text = renderEnvExample(ENV_VARS);
  if (args.includes('--write')) {
    writeFileSync(target, text);
    process.stdout.write(`wrote ${target}\n`);
  } else if (args.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      process.stderr.write('.env.example is out of date: run `node deploy/env-example.mjs --write`\n');
      process.exit(1);
    }
  } else {
    process.stdout.write(text);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
