// Plain node:http plumbing shared by the fake servers: a listener that can go down and come back
// on the same port (fault injection), JSON bodies, and an abort signal for a dropped client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ListenOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

/** An HTTP server whose listening socket can be closed and reopened on the same port. */
export class HttpListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #host: string;
  #port: number;
  #up = false;

  private constructor(handler: Handler, host: string, port: number) {
    this.#host = host;
    this.#port = port;
    this.#server = createServer((req, res) => {
      handler(req, res).catch((error: unknown) => failRequest(res, error));
    });
    // Keep-alive sockets would outlive close(); track them so down()/stop() really drop clients.
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('error', () => {
      // Listen errors are surfaced by listen(); runtime errors on a fake are not worth crashing for.
    });
  }

  static async start(handler: Handler, options: ListenOptions = {}): Promise<HttpListener> {
    const listener = new HttpListener(handler, options.host ?? '127.0.0.1', options.port ?? 0);
    await listener.up();
    return listener;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://${this.#host}:${this.#port}`;
  }

  get isUp(): boolean {
    return this.#up;
  }

  /** Listen again on the same port (after down()). */
  async up(): Promise<void> {
    if (this.#up) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', onError);
        const address = this.#server.address();
        if (typeof address === 'object' && address !== null) this.#port = address.port;
        resolve();
      });
    });
    this.#up = true;
  }

  /** Refuse new connections and drop every open one (in-flight requests see a reset). */
  async down(): Promise<void> {
    if (!this.#up) return;
    this.#up = false;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#server.closeAllConnections();
    await closed;
  }

  async stop(): Promise<void> {
    await this.down();
  }
}

export class BadRequest extends Error {}

/** Reads and parses a JSON request body (the fakes never need more than a few MB). */
export async function readJson(req: IncomingMessage, limitBytes = 32 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) throw new BadRequest(`request body larger than ${limitBytes} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadRequest(`invalid JSON body: ${(error as Error).message}`);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends a scripted raw body: JSON content type when it parses as JSON, else plain text. */
export function sendRaw(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  let type = 'text/plain; charset=utf-8';
  try {
    JSON.parse(body);
    type = 'application/json; charset=utf-8';
  } catch {
    // Not JSON: a deliberate garbage body for fault injection, sent as text.
  }
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Aborts when the client goes away before the response is complete (frees slots, ends hangs). */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Lower-cased headers as plain strings, minus the ones listed (secrets). */
export function plainHeaders(req: IncomingMessage, omit: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || omit.includes(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function failRequest(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const status = error instanceof BadRequest ? 400 : 500;
  sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
}

/** The body must be a JSON object; anything else is the client's mistake (400). */
export function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequest('request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
