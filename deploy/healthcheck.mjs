// The image's HEALTHCHECK: exit 0 when this container's service answers GET /healthz on HEALTH_PORT with 200.
// Plain Node because node:20-slim has no curl or wget; no dependencies, so it runs before anything is loaded.
// biome-ignore-all lint/suspicious/noUndeclaredEnvVars: runs inside the container, not as a turbo task
import { request } from 'node:http';

const port = Number(process.env.HEALTH_PORT ?? '9464');
// The service's bind address; a wildcard bind (0.0.0.0 in k8s) is reached through loopback.
const bind = process.env.HEALTH_HOST ?? '';
const host = bind === '' || bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS ?? '4000');

function fail(reason) {
  // Docker keeps the last lines of output in `docker inspect`, so say why.
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

if (!Number.isInteger(port) || port < 1 || port > 65_535)
  fail(`HEALTH_PORT is not a port: ${process.env.HEALTH_PORT}`);

const req = request({ host, port, path: '/healthz', method: 'GET', timeout: timeoutMs }, (res) => {
  res.resume(); // drain: the body is informative only
  if (res.statusCode === 200) process.exit(0);
  fail(`GET /healthz on port ${port} answered ${res.statusCode}`);
});
req.on('timeout', () => {
  req.destroy();
  fail(`GET /healthz on port ${port} took longer than ${timeoutMs} ms`);
});
req.on('error', (error) => fail(`GET /healthz on port ${port}: ${error.message}`));
req.end();
