// Which names the dashboard answers to: the guard against DNS rebinding (issue 17 §6).
//
// A web page at http://attacker.example:8080 whose name the attacker re-points at 127.0.0.1 is,
// to the browser, same-origin with itself, so it can read and POST to a loopback service that
// trusts "loopback = the user". Ollama had exactly this hole (CVE-2024-28224); Vite and webpack's
// dev servers answer it with an allowed-hosts list. So do we: every request's `Host` must name
// the dashboard by a name it is really reached by — loopback names and addresses, the address it
// is bound to, this machine's interface addresses when bound to all of them, and the names the
// operator lists (DASHBOARD_ALLOWED_HOSTS, e.g. a reverse proxy's public name). And a mutating
// request that carries an `Origin` (or, lacking it, a `Referer`) must come from one of those names
// too, token or no token: a page elsewhere may not make the browser spend the user's session.
//
// Ports: an allowed entry written `name:port` pins the port; bare names accept any port. Loopback
// names are bare on purpose: the port a browser uses may differ from the one we listen on (compose
// publishes DASHBOARD_PORT on the host to 8080 in the container), and the port adds nothing against
// rebinding — the attacker's page cannot choose the name it appears under, which is what we check.
import { networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Requests that change state; only these need an acceptable Origin. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The probe must answer whatever name an orchestrator calls us by; it reveals nothing. */
const UNCHECKED_PATHS = new Set(['/healthz']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '']);

export interface HostPolicyInput {
  /** The bind address (DASHBOARD_HOST). */
  bindHost: string;
  /** Extra names (DASHBOARD_ALLOWED_HOSTS): `name` (any port) or `name:port`; `*` accepts any Host. */
  allowedHosts?: readonly string[] | undefined;
  /** This machine's addresses; default os.networkInterfaces(). Injected by tests. */
  interfaceAddresses?: readonly string[] | undefined;
}

interface HostEntry {
  name: string;
  port?: string;
}

export interface HostPolicy {
  /** True when the `Host` header value names this dashboard. */
  acceptsHost(hostHeader: string | undefined): boolean;
  /** True when a serialized origin (`http://name:port`) or URL names this dashboard. */
  acceptsOrigin(origin: string): boolean;
  /** The accepted names, for the refusal message and the docs. */
  readonly names: readonly string[];
}

/** `[::1]:8080` → { name: '::1', port: '8080' }; names are lower-cased, a trailing dot dropped. */
export function splitHost(value: string): HostEntry | undefined {
  const text = value.trim().toLowerCase();
  if (text.length === 0) return undefined;
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return withPort(bracketed[1] as string, bracketed[2]);
  const colons = text.split(':').length - 1;
  if (colons > 1) return { name: text }; // a bare IPv6 address (only in configuration)
  const [name, port] = text.split(':') as [string, string | undefined];
  if (!/^[a-z0-9.-]+$/.test(name) || (port !== undefined && !/^\d{1,5}$/.test(port))) return undefined;
  return withPort(name.replace(/\.$/, ''), port);
}

function withPort(name: string, port: string | undefined): HostEntry {
  return port === undefined ? { name } : { name, port };
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((i) => (i === undefined ? [] : [i.address.toLowerCase()]));
}

export function hostPolicy(input: HostPolicyInput): HostPolicy {
  const configured = input.allowedHosts ?? [];
  const anyHost = configured.includes('*');
  const entries: HostEntry[] = LOOPBACK_NAMES.map((name) => ({ name }));
  const bind = input.bindHost.trim().toLowerCase();
  if (ANY_ADDRESS.has(bind)) {
    for (const address of input.interfaceAddresses ?? machineAddresses()) entries.push({ name: address });
  } else {
    entries.push({ name: bind.replace(/^\[|\]$/g, '') });
  }
  for (const value of configured) {
    const entry = value === '*' ? undefined : splitHost(value);
    if (entry !== undefined) entries.push(entry);
  }
  const matches = (candidate: HostEntry): boolean =>
    entries.some((e) => e.name === candidate.name && (e.port === undefined || e.port === candidate.port));
  return {
    names: [...new Set(entries.map((e) => (e.port === undefined ? e.name : `${e.name}:${e.port}`)))],
    acceptsHost(hostHeader) {
      if (anyHost) return true;
      const candidate = hostHeader === undefined ? undefined : splitHost(hostHeader);
      return candidate !== undefined && matches(candidate);
    },
    acceptsOrigin(origin) {
      if (anyHost) return true;
      let url: URL;
      try {
        url = new URL(origin);
      } catch (error) {
        void error; // `null` (sandboxed frames, file://) and garbage are foreign by definition
        return false;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
      const candidate = splitHost(url.host);
      if (candidate === undefined) return false;
      // URL drops a default port; the pinned-port entries compare against the effective one.
      const port = candidate.port ?? (url.protocol === 'https:' ? '443' : '80');
      return matches({ name: candidate.name, port });
    },
  };
}

function refuse(reply: FastifyReply, what: string, policy: HostPolicy): FastifyReply {
  return reply.code(403).send({
    error: `forbidden: ${what}. The dashboard answers to ${policy.names.join(', ')}; add a name with DASHBOARD_ALLOWED_HOSTS (e.g. the reverse proxy's).`,
  });
}

/** Adds the check as the first onRequest hook: before auth, before any route runs. */
export function registerHostCheck(app: FastifyInstance, policy: HostPolicy): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (UNCHECKED_PATHS.has(path)) return;
    if (!policy.acceptsHost(request.headers.host)) {
      return refuse(reply, `unknown Host ${JSON.stringify(request.headers.host ?? '')}`, policy);
    }
    if (!MUTATING.has(request.method)) return;
    const origin = request.headers.origin ?? request.headers.referer;
    // No Origin and no Referer: not a browser page (curl, the CLI, scripts), so no rebinding risk.
    if (origin !== undefined && !policy.acceptsOrigin(origin)) {
      return refuse(reply, `cross-origin request from ${JSON.stringify(origin)}`, policy);
    }
  });
}
