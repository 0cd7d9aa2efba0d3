// The rules docker-compose.yml must keep (issue 10 and ARCHITECTURE §5), as a checker that lists every
// broken rule, so a test can show both that the file keeps them and that breaking one is noticed.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are docker compose's ${VAR} syntax, not templates
import { durationSeconds, interpolateDeep } from './compose-interpolate.js';
import { environmentOf, isNightshiftService } from './compose-processes.js';

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

export const WORKER_ROLES = ['architect', 'scout', 'builder', 'refactorer', 'inspector'] as const;
export const NIGHTSHIFT_SERVICES = [
  'llm-gateway',
  'director',
  'scribe',
  'sentinel',
  'dashboard',
  ...WORKER_ROLES,
];
export const REQUIRED_SERVICES = ['redis', 'ollama', 'ollama-pull', ...NIGHTSHIFT_SERVICES];

/** Guide §7: the Builder's 900 s is the longest role timeout; an agent must be allowed to finish it. */
export const LONGEST_ROLE_TIMEOUT_SECONDS = 900;

/** A value as compose would see it with nothing set (defaults applied; required variables empty). */
function withDefaults(value: unknown): unknown {
  return interpolateDeep(value, {}, []);
}

function condition(service: Json, dependency: string): unknown {
  const dependsOn = service.depends_on;
  if (Array.isArray(dependsOn)) return dependsOn.includes(dependency) ? 'service_started' : undefined;
  const entry = obj(dependsOn)[dependency];
  return entry === undefined ? undefined : (obj(entry).condition ?? 'service_started');
}

/** Host IP of a published port (`127.0.0.1:8080:8080` or long syntax); '' = every interface. */
function publishedHostIp(port: unknown): string {
  if (typeof port === 'object' && port !== null) return String(obj(port).host_ip ?? '');
  const parts = String(port).split(':');
  return parts.length === 3 ? (parts[0] as string) : '';
}

function checkRedis(redis: Json, problems: string[]): void {
  if (!/^redis:7/.test(String(redis.image)))
    problems.push(`redis: image should be redis:7-*, got ${redis.image}`);
  const command = Array.isArray(redis.command) ? redis.command.map(String) : [];
  const conf = '/usr/local/etc/redis/redis.conf';
  if (!command.includes(conf)) problems.push(`redis: command must load ${conf}`);
  const pass = command[command.indexOf('--requirepass') + 1];
  if (!command.includes('--requirepass') || !/^\$\{REDIS_PASSWORD:\?/.test(pass ?? '')) {
    problems.push('redis: command must pass --requirepass ${REDIS_PASSWORD:?…} (required, from .env)');
  }
  const volumes = (Array.isArray(redis.volumes) ? redis.volumes : []).map(String);
  if (!volumes.some((v) => v.startsWith('./deploy/redis.conf:') && v.includes(conf))) {
    problems.push('redis: deploy/redis.conf must be mounted at the config path');
  }
  if (!volumes.some((v) => /^[A-Za-z0-9][\w.-]*:\/data(:|$)/.test(v)))
    problems.push('redis: /data must be a named volume');
  if (redis.healthcheck === undefined) problems.push('redis: needs a healthcheck');
}

function checkOllama(services: Json, problems: string[]): void {
  const ollama = obj(services.ollama);
  const env = environmentOf(withDefaults(ollama));
  const expected = { OLLAMA_NUM_PARALLEL: '2', OLLAMA_MAX_QUEUE: '100', OLLAMA_KEEP_ALIVE: '60m' };
  for (const [key, value] of Object.entries(expected)) {
    if (env[key] !== value) problems.push(`ollama: ${key} should default to ${value}, got ${env[key]}`);
  }
  const devices = obj(obj(obj(ollama.deploy).resources).reservations).devices;
  const gpu = Array.isArray(devices) ? devices.map(obj) : [];
  if (
    !gpu.some((d) => d.driver === 'nvidia' && Array.isArray(d.capabilities) && d.capabilities.includes('gpu'))
  ) {
    problems.push('ollama: needs the GPU reservation (deploy.resources.reservations.devices, nvidia, [gpu])');
  }
  const volumes = (Array.isArray(ollama.volumes) ? ollama.volumes : []).map(String);
  if (!volumes.some((v) => v.endsWith(':/root/.ollama')))
    problems.push('ollama: models need a volume at /root/.ollama');
  if (ollama.healthcheck === undefined) problems.push('ollama: needs a healthcheck');

  const pull = obj(services['ollama-pull']);
  const pullCommand = (Array.isArray(pull.command) ? pull.command : []).map(String);
  if (pullCommand[0] !== 'pull' || !/OLLAMA_MODEL/.test(pullCommand[1] ?? '')) {
    problems.push('ollama-pull: command must be ["pull", "${OLLAMA_MODEL:-…}"]');
  }
  if (pull.restart !== 'no')
    problems.push(`ollama-pull: restart must be "no" (one-shot), got ${pull.restart}`);
  if (condition(pull, 'ollama') !== 'service_healthy')
    problems.push('ollama-pull: must wait for ollama to be healthy');
}

function checkNightshift(services: Json, problems: string[]): void {
  const ollamaEnv = environmentOf(obj(services.ollama));
  const images = new Set<string>();
  let builds = 0;
  for (const name of NIGHTSHIFT_SERVICES) {
    const service = obj(services[name]);
    if (!isNightshiftService(service)) problems.push(`${name}: must run the nightshift image`);
    images.add(String(service.image));
    if (service.build !== undefined) {
      builds++;
      if (obj(service.build).dockerfile !== 'deploy/Dockerfile')
        problems.push(`${name}: build must use deploy/Dockerfile`);
    }
    if (service.restart !== 'unless-stopped') problems.push(`${name}: restart must be unless-stopped`);
    if (condition(service, 'redis') !== 'service_healthy')
      problems.push(`${name}: must wait for redis to be healthy`);
    for (const [dependency, entry] of Object.entries(obj(service.depends_on))) {
      if (obj(entry).condition === undefined)
        problems.push(`${name}: depends_on ${dependency} has no condition`);
    }
    const envFiles = Array.isArray(service.env_file) ? service.env_file : [service.env_file];
    if (!envFiles.some((f) => f === '.env' || obj(f).path === '.env'))
      problems.push(`${name}: must read env_file .env`);
    if (durationSeconds(service.stop_grace_period) === undefined) {
      problems.push(`${name}: needs a stop_grace_period (a compose duration)`);
    }
    const env = environmentOf(service);
    for (const key of ['OLLAMA_NUM_PARALLEL', 'OLLAMA_MAX_QUEUE']) {
      if (env[key] !== ollamaEnv[key]) {
        problems.push(`${name}: ${key} must be the ollama service's (${ollamaEnv[key]}), got ${env[key]}`);
      }
    }
  }
  if (images.size !== 1)
    problems.push(`Nightshift services must share one image, found ${[...images].join(', ')}`);
  if (builds < 1) problems.push('one Nightshift service must build the image (build: deploy/Dockerfile)');

  const gateway = obj(services['llm-gateway']);
  if (condition(gateway, 'ollama') !== 'service_healthy')
    problems.push('llm-gateway: must wait for ollama to be healthy');
  if (condition(gateway, 'ollama-pull') !== 'service_completed_successfully') {
    problems.push('llm-gateway: must wait for ollama-pull to complete successfully');
  }

  for (const role of WORKER_ROLES) {
    const service = obj(services[role]);
    const command = (Array.isArray(service.command) ? service.command : []).map(String);
    if (command.join(' ') !== 'node services/agent/dist/main.js') {
      problems.push(`${role}: command must be ["node", "services/agent/dist/main.js"]`);
    }
    if (environmentOf(service).ROLE !== role) problems.push(`${role}: environment must set ROLE=${role}`);
    if (service.container_name !== undefined)
      problems.push(`${role}: container_name prevents --scale ${role}=N`);
    const grace = durationSeconds(service.stop_grace_period) ?? 0;
    if (grace <= LONGEST_ROLE_TIMEOUT_SECONDS) {
      problems.push(
        `${role}: stop_grace_period ${service.stop_grace_period} must exceed ${LONGEST_ROLE_TIMEOUT_SECONDS}s`,
      );
    }
  }
}

function checkDashboard(dashboard: Json, problems: string[]): void {
  const published = withDefaults(dashboard.ports);
  const ports = Array.isArray(published) ? published : [];
  if (ports.length === 0) problems.push('dashboard: must be published (on 127.0.0.1)');
  for (const port of ports) {
    if (publishedHostIp(port) !== '127.0.0.1') {
      problems.push(`dashboard: port ${JSON.stringify(port)} is published beyond 127.0.0.1`);
    }
  }
  const env = environmentOf(dashboard);
  if (env.DASHBOARD_HOST !== '0.0.0.0')
    problems.push('dashboard: DASHBOARD_HOST must be 0.0.0.0 inside the container');
  if (!/^\$\{DASHBOARD_TOKEN:\?/.test(env.DASHBOARD_TOKEN ?? '')) {
    problems.push(
      'dashboard: DASHBOARD_TOKEN must be required (${DASHBOARD_TOKEN:?…}): it listens beyond loopback',
    );
  }
}

/** Every rule broken by a parsed (merge keys resolved, not interpolated) compose document. */
export function checkComposeRules(doc: unknown): string[] {
  const problems: string[] = [];
  const services = obj(obj(doc).services);
  for (const name of REQUIRED_SERVICES) {
    if (services[name] === undefined) problems.push(`service ${name} is missing`);
  }
  if (problems.length > 0) return problems;
  checkRedis(obj(services.redis), problems);
  checkOllama(services, problems);
  checkNightshift(services, problems);
  checkDashboard(obj(services.dashboard), problems);
  for (const [name, service] of Object.entries(services)) {
    if (name !== 'dashboard' && obj(service).ports !== undefined)
      problems.push(`${name}: must not publish a port`);
  }
  // Named volumes in use must be declared (a typo would otherwise be a bind mount of a folder).
  const declared = new Set(Object.keys(obj(obj(doc).volumes)));
  for (const [name, service] of Object.entries(services)) {
    const volumes = withDefaults(obj(service).volumes);
    for (const volume of Array.isArray(volumes) ? volumes : []) {
      const source = String(volume).split(':')[0] ?? '';
      if (/^[A-Za-z0-9][\w.-]*$/.test(source) && !declared.has(source)) {
        problems.push(`${name}: volume ${source} is not declared under volumes:`);
      }
    }
  }
  return [...new Set(problems)];
}

/** The settings deploy/redis.conf must hold. The password must not be one: this file is committed. */
export function checkRedisConf(text: string): string[] {
  const settings = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(/\s+/);
    settings.set((key as string).toLowerCase(), rest.join(' '));
  }
  const problems: string[] = [];
  const expected = {
    appendonly: 'yes',
    appendfsync: 'everysec',
    'maxmemory-policy': 'noeviction',
    'protected-mode': 'yes',
  };
  for (const [key, value] of Object.entries(expected)) {
    if (settings.get(key) !== value)
      problems.push(`redis.conf: ${key} must be ${value}, got ${settings.get(key)}`);
  }
  if (settings.has('requirepass'))
    problems.push('redis.conf: requirepass must come from .env, not from this file');
  return problems;
}
