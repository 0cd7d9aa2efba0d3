// Who may use the dashboard: on a loopback bind anyone local; any other bind requires
// DASHBOARD_TOKEN, and then every route but /healthz needs it — as `Authorization: Bearer`, or
// the session cookie `POST /login` sets (an HMAC of the token, never the token itself).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { NightshiftError } from '@nightshift/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loginPage } from './views/login.js';

export const SESSION_COOKIE = 'ns_session';
/** Routes anyone may reach: the probe, and the login form itself. */
const PUBLIC = new Set(['/healthz', '/login']);

export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1'
  );
}

/** Refuses a bind that other machines can reach unless a token protects it (issue 11 security). */
export function assertBindAllowed(host: string, token: string | undefined): void {
  if (isLoopback(host) || (token !== undefined && token.length > 0)) return;
  throw new NightshiftError(
    'DASHBOARD_TOKEN_REQUIRED',
    `the dashboard would listen on ${host}, which other machines can reach: set DASHBOARD_TOKEN (16+ characters) or bind DASHBOARD_HOST=127.0.0.1`,
    { category: 'fatal', details: { host } },
  );
}

/** Equal-time comparison of two strings of any length (digests first, so lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('nightshift-dashboard-session-v1').digest('base64url');
}

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export type AuthVia = 'bearer' | 'cookie' | 'none';

export function authenticate(request: FastifyRequest, token: string): AuthVia | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ') && safeEqual(header.slice(7).trim(), token)) return 'bearer';
  const cookie = cookieOf(request, SESSION_COOKIE);
  if (cookie !== undefined && safeEqual(cookie, sessionValue(token))) return 'cookie';
  return undefined;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A cookie travels with cross-site requests; SameSite=Strict already stops that in current
 * browsers, and this check stops it everywhere: a state change sent with the cookie must come
 * from our own origin.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin ?? request.headers.referer;
  if (origin === undefined) return true; // not a browser: no ambient cookie risk
  try {
    return new URL(origin).host === request.headers.host;
  } catch (error) {
    void error;
    return false;
  }
}

function wantsHtml(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

/** Adds the auth hook and the login/logout routes. No token: open (loopback only, enforced above). */
export function registerAuth(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (PUBLIC.has(path)) return;
    const via = authenticate(request, token);
    if (via === undefined) {
      reply.header('WWW-Authenticate', 'Bearer realm="nightshift"');
      if (wantsHtml(request)) {
        return reply
          .code(401)
          .type('text/html; charset=utf-8')
          .send(loginPage({ next: request.url }));
      }
      return reply.code(401).send({ error: 'unauthorized: send Authorization: Bearer <DASHBOARD_TOKEN>' });
    }
    if (via === 'cookie' && MUTATING.has(request.method) && !sameOrigin(request)) {
      return reply.code(403).send({ error: 'forbidden: cross-origin request' });
    }
  });

  app.get('/login', async (request, reply) => {
    const next = (request.query as { next?: string }).next;
    return reply.type('text/html; charset=utf-8').send(loginPage({ next: safeNext(next) }));
  });

  app.post('/login', async (request, reply) => {
    const body = (request.body ?? {}) as { token?: unknown; next?: unknown };
    const next = safeNext(typeof body.next === 'string' ? body.next : undefined);
    if (typeof body.token !== 'string' || !safeEqual(body.token, token)) {
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(loginPage({ next, failed: true }));
    }
    const secure = request.protocol === 'https' ? '; Secure' : '';
    reply.header(
      'Set-Cookie',
      `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${7 * 24 * 3600}${secure}`,
    );
    return reply.code(303).header('Location', next).send();
  });

  app.post('/logout', async (_request, reply) => {
    reply.header('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return reply.code(303).header('Location', '/login').send();
  });
}

/** Only our own paths: never `//evil.example` or `https://…` (an open redirect). */
export function safeNext(next: string | undefined): string {
  if (next === undefined) return '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : '/';
}
