// A fake Anthropic Messages API (`POST /v1/messages`) with scripted replies and injectable
// failures (429 + retry-after, 529 overloaded, 500, hangs) so the real SDK's retries are exercised.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  asObject,
  BadRequest,
  clientGone,
  HttpListener,
  plainHeaders,
  readJson,
  sendJson,
  sendRaw,
} from '../http.js';
import { Scenario } from '../scenario.js';
import { sleep, untilAborted } from '../wait.js';
import { forceTool, limitReply, PromptCache } from './cache.js';
import {
  defaultReply,
  errorResponse,
  InvalidRequest,
  messageResponse,
  parseRequest,
  replyChars,
} from './messages.js';
import type {
  AnthropicRecord,
  AnthropicReply,
  AnthropicRequestInfo,
  AnthropicRule,
  FakeAnthropicOptions,
} from './types.js';

export class FakeAnthropic {
  readonly #scenario: Scenario<AnthropicRequestInfo, AnthropicReply>;
  readonly #records: AnthropicRecord[] = [];
  /** Prompt-cache prefixes written so far (cache.ts); cleared by reset(). */
  readonly #cache = new PromptCache();
  readonly #models: readonly string[] | undefined;
  #listener: HttpListener | null = null;
  #latencyMs: number;
  #nextId = 1;
  #inFlight = 0;
  #maxConcurrent = 0;

  /** Use startFakeAnthropic(). */
  private constructor(options: FakeAnthropicOptions) {
    this.#scenario = new Scenario(options.scenario ?? []);
    this.#models = options.models;
    this.#latencyMs = options.latencyMs ?? 0;
  }

  static async start(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
    const fake = new FakeAnthropic(options);
    fake.#listener = await HttpListener.start((req, res) => fake.#handle(req, res), {
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    return fake;
  }

  get #http(): HttpListener {
    if (this.#listener === null) throw new Error('fake Anthropic is not started');
    return this.#listener;
  }

  /** Base URL for `new Anthropic({ baseURL: url })`. */
  get url(): string {
    return this.#http.url;
  }

  get port(): number {
    return this.#http.port;
  }

  get isUp(): boolean {
    return this.#http.isUp;
  }

  /** Every `POST /v1/messages` so far, in arrival order (live array). */
  get records(): readonly AnthropicRecord[] {
    return this.#records;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }

  setScenario(rules: AnthropicRule[]): void {
    this.#scenario.set(rules);
  }

  addRules(...rules: AnthropicRule[]): void {
    this.#scenario.add(...rules);
  }

  get pendingRules(): number {
    return this.#scenario.pendingRules;
  }

  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** Forgets records and the concurrency peak (the scenario stays). */
  reset(): void {
    this.#records.length = 0;
    this.#cache.clear();
    this.#maxConcurrent = this.#inFlight;
  }

  down(): Promise<void> {
    return this.#http.down();
  }

  up(): Promise<void> {
    return this.#http.up();
  }

  stop(): Promise<void> {
    return this.#http.stop();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/messages') {
      return sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${path}`);
    }
    this.#inFlight += 1;
    this.#maxConcurrent = Math.max(this.#maxConcurrent, this.#inFlight);
    res.on('close', () => {
      this.#inFlight -= 1;
    });
    try {
      await this.#messages(req, res);
    } catch (error) {
      if (!(error instanceof BadRequest) || res.headersSent) throw error;
      sendError(res, 400, 'invalid_request_error', error.message);
    }
  }

  async #messages(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = Date.now();
    const body = asObject(await readJson(req));
    const headers = plainHeaders(req, ['x-api-key', 'authorization']);
    const record: AnthropicRecord = {
      id: this.#nextId++,
      arrival,
      end: null,
      model: typeof body.model === 'string' ? body.model : '',
      role: null,
      system: '',
      messages: [],
      tools: [],
      promptChars: 0,
      apiKeyPresent: hasKey(req),
      headers,
      status: null,
      errorType: null,
      aborted: false,
      replyChars: 0,
    };
    this.#records.push(record);
    const gone = clientGone(res);
    gone.addEventListener('abort', () => {
      record.aborted = true;
    });
    res.on('close', () => {
      record.end ??= Date.now();
    });
    const fail = (status: number, type: string, message: string) => {
      record.status = status;
      record.errorType = type;
      sendError(res, status, type, message);
    };

    // The real API checks the key and the version header before the body.
    if (!record.apiKeyPresent) return fail(401, 'authentication_error', 'x-api-key header is required');
    if (headers['anthropic-version'] === undefined) {
      return fail(400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    let info: AnthropicRequestInfo;
    try {
      info = parseRequest(record.id, body, req);
    } catch (error) {
      if (error instanceof InvalidRequest) return fail(400, 'invalid_request_error', error.message);
      throw error;
    }
    Object.assign(record, {
      role: info.role,
      system: info.system,
      messages: info.messages,
      tools: info.tools,
      promptChars: info.promptChars,
    });

    if (this.#models !== undefined && !this.#models.includes(info.model)) {
      return fail(404, 'not_found_error', `model: ${info.model}`);
    }
    const picked = (await this.#scenario.pick(info)) ?? defaultReply(info);
    const reply = limitReply(forceTool(picked, info.body), info.maxTokens);
    await sleep(reply.latencyMs ?? this.#latencyMs, gone);
    if (gone.aborted) return;
    if (reply.hang === true) return untilAborted(gone);
    if (reply.error !== undefined) {
      const { type, body, headers } = errorResponse(reply.error);
      record.status = reply.error.status;
      record.errorType = type;
      return sendRaw(res, reply.error.status, body, headers);
    }
    record.status = 200;
    record.replyChars = replyChars(reply);
    sendJson(res, 200, messageResponse(info, reply, this.#cache.usage(info)), {
      'request-id': `req_${info.id}`,
    });
  }
}

export function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  return FakeAnthropic.start(options);
}

function hasKey(req: IncomingMessage): boolean {
  const key = req.headers['x-api-key'];
  const auth = req.headers.authorization;
  return (typeof key === 'string' && key !== '') || (typeof auth === 'string' && auth !== '');
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { type: 'error', error: { type, message } });
}
