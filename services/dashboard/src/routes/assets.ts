// GET /assets/…: the chart renderer for the run page, served from node_modules (never a CDN): vega
// and vega-lite (UMD builds) and vega-interpreter (ESM, with the vega-util modules it imports),
// which evaluates Vega expressions without `eval`, so the pages' CSP needs no 'unsafe-eval'.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const require = createRequire(import.meta.url);
const buildDir = (pkg: string) => dirname(require.resolve(pkg));

/** The URL path of each script the run page loads, and the file behind it. */
export const ASSETS = {
  vega: '/assets/vega.min.js',
  vegaLite: '/assets/vega-lite.min.js',
  interpreter: '/assets/vega-interpreter.js',
  /** The import-map target for the interpreter's bare `vega-util` import. */
  vegaUtil: '/assets/vega-util/index.js',
} as const;

const FILES: Record<string, () => string> = {
  'vega.min.js': () => join(buildDir('vega'), 'vega.min.js'),
  'vega-lite.min.js': () => join(buildDir('vega-lite'), 'vega-lite.min.js'),
  'vega-interpreter.js': () => require.resolve('vega-interpreter'),
};

/** A module file name of vega-util's build (`index.js`, `accessor.js`…): no path, no dot-dot. */
const MODULE_NAME = /^[A-Za-z][\w-]*\.js$/;
/** Browsers keep the scripts and ask again each time; an unchanged one costs a 304 (ETag). */
const CACHE = 'private, no-cache';

export function registerAssets(app: FastifyInstance): void {
  const cache = new Map<string, { body: Buffer; etag: string }>();
  const send = async (request: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> => {
    let file = cache.get(path);
    if (file === undefined) {
      const body = await readFile(path);
      file = { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
      cache.set(path, file);
    }
    reply.header('Cache-Control', CACHE).header('ETag', file.etag);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(file.body);
  };
  const notFound = (reply: FastifyReply, what: string) =>
    reply.code(404).send({ error: `no asset ${what}`, code: 'NOT_FOUND' });

  app.get('/assets/vega-util/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    if (!MODULE_NAME.test(file)) return notFound(reply, `vega-util/${file}`);
    return send(request, reply, join(buildDir('vega-util'), file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return notFound(reply, `vega-util/${file}`);
      throw error;
    });
  });
  app.get('/assets/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const path = Object.hasOwn(FILES, file) ? FILES[file]?.() : undefined;
    return path === undefined ? notFound(reply, file) : send(request, reply, path);
  });
}
