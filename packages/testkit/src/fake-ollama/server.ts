// A fake Ollama speaking the real HTTP API, with Ollama's slot/queue/503 behaviour, scripted
// replies and a record of every chat request, so the real `ollama` client can be tested.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asObject, BadRequest, clientGone, HttpListener, readJson, sendJson, sendRaw } from '../http.js';
import { Scenario } from '../scenario.js';
import { sleep, untilAborted } from '../wait.js';
import { fitWindow, numCtxOf, shapeReply } from './habits.js';
import { requestInfo } from './request.js';
import {
  chatChunks,
  chatResponse,
  defaultReply,
  normaliseModel,
  psResponse,
  replyChars,
  showResponse,
  tagsResponse,
} from './responses.js';
import { SlotScheduler } from './scheduler.js';
import type { FakeOllamaOptions, OllamaRecord, OllamaReply, OllamaRequestInfo, OllamaRule } from './types.js';

// Ollama's own wording (server/sched.go), two spaces included: clients may match on it.
export const OLLAMA_BUSY_MESSAGE = 'server busy, please try again.  maximum pending requests exceeded';
const KEEP_ALIVE_MS = 5 * 60_000;

export class FakeOllama {
  readonly #scheduler: SlotScheduler;
  readonly #scenario: Scenario<OllamaRequestInfo, OllamaReply>;
  readonly #models: string[];
  readonly #version: string;
  readonly #records: OllamaRecord[] = [];
  readonly #loaded = new Map<string, number>();
  readonly #windows = new Map<string, number>();
  readonly #modifiedAt = new Date().toISOString();
  #listener: HttpListener | null = null;
  #latencyMs: number;
  #nextId = 1;

  /** Use startFakeOllama(). */
  private constructor(options: FakeOllamaOptions) {
    this.#scheduler = new SlotScheduler(options.numParallel ?? 2, options.maxQueue ?? 100);
    this.#scenario = new Scenario(options.scenario ?? []);
    this.#models = (options.models ?? ['qwen3:32b']).map(normaliseModel);
    this.#version = options.version ?? '0.12.6';
    this.#latencyMs = options.latencyMs ?? 0;
  }

  static async start(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
    const fake = new FakeOllama(options);
    fake.#listener = await HttpListener.start((req, res) => fake.#handle(req, res), {
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    return fake;
  }

  get #http(): HttpListener {
    if (this.#listener === null) throw new Error('fake Ollama is not started');
    return this.#listener;
  }

  /** Base URL for `new Ollama({ host: url })`. */
  get url(): string {
    return this.#http.url;
  }

  get port(): number {
    return this.#http.port;
  }

  get isUp(): boolean {
    return this.#http.isUp;
  }

  /** Every chat request so far, in arrival order (live array). */
  get records(): readonly OllamaRecord[] {
    return this.#records;
  }

  /** Peak number of requests served at once. */
  get maxConcurrent(): number {
    return this.#scheduler.maxConcurrent;
  }

  /** Peak number of requests waiting for a slot. */
  get maxQueued(): number {
    return this.#scheduler.maxQueued;
  }

  /** Requests holding a slot right now. */
  get inFlight(): number {
    return this.#scheduler.running;
  }

  /** Requests waiting for a slot right now. */
  get queued(): number {
    return this.#scheduler.queued;
  }

  get models(): readonly string[] {
    return this.#models;
  }

  /** Replaces the scripted replies (and their `times` counts). */
  setScenario(rules: OllamaRule[]): void {
    this.#scenario.set(rules);
  }

  /** Appends rules after the current ones. */
  addRules(...rules: OllamaRule[]): void {
    this.#scenario.add(...rules);
  }

  /** Rules with a finite `times` that still have uses left. */
  get pendingRules(): number {
    return this.#scenario.pendingRules;
  }

  /** Default delay for replies whose rule sets none. */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** Forgets records and peaks (the scenario stays; use setScenario([]) to clear it). */
  reset(): void {
    this.#records.length = 0;
    this.#scheduler.resetPeaks();
  }

  /** Fault injection: stop listening and drop every connection (clients see ECONNREFUSED/reset). */
  down(): Promise<void> {
    return this.#http.down();
  }

  /** Listen again on the same port. */
  up(): Promise<void> {
    return this.#http.up();
  }

  stop(): Promise<void> {
    return this.#http.stop();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method ?? 'GET'} ${path}`;
    switch (route) {
      case 'GET /':
      case 'HEAD /':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Ollama is running');
        return;
      case 'GET /api/version':
        return sendJson(res, 200, { version: this.#version });
      case 'GET /api/tags':
        return sendJson(res, 200, tagsResponse(this.#models, this.#modifiedAt));
      case 'GET /api/ps':
        return sendJson(res, 200, psResponse(this.#loaded, KEEP_ALIVE_MS, this.#windows));
      case 'POST /api/show':
        return this.#show(req, res);
      case 'POST /api/chat':
        return this.#chat(req, res);
      default:
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('404 page not found');
    }
  }

  async #show(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = asObject(await readJson(req));
    const name = typeof body.model === 'string' ? body.model : typeof body.name === 'string' ? body.name : '';
    if (!this.#models.includes(normaliseModel(name))) {
      return sendJson(res, 404, { error: `model '${name}' not found` });
    }
    sendJson(res, 200, showResponse(name, this.#modifiedAt));
  }

  async #chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = Date.now();
    const body = asObject(await readJson(req));
    if (typeof body.model !== 'string' || body.model === '') throw new BadRequest('model is required');
    const asked = requestInfo(this.#nextId++, body, req);
    // Ollama's habit: a prompt longer than the window silently loses its start (habits.ts).
    const numCtx = numCtxOf(body);
    const toolsChars = asked.tools.length > 0 ? JSON.stringify(asked.tools).length : 0;
    const window = fitWindow(asked.messages, toolsChars, numCtx);
    const info = window.truncated
      ? requestInfo(asked.id, { ...body, messages: window.messages }, req)
      : asked;
    const record: OllamaRecord = {
      id: info.id,
      arrival,
      start: null,
      end: null,
      model: info.model,
      role: info.role,
      promptChars: info.promptChars,
      messages: info.messages,
      tools: info.tools,
      stream: info.stream,
      status: null,
      aborted: false,
      replyChars: 0,
      numCtx,
      truncated: window.truncated,
      doneReason: null,
    };
    this.#records.push(record);
    const gone = clientGone(res);
    gone.addEventListener('abort', () => {
      record.aborted = true;
    });
    const finish = (status: number | null) => {
      if (status !== null) record.status = status;
      record.end ??= Date.now();
    };
    res.on('close', () => finish(null));

    // Ollama resolves the model before scheduling, so a bad name never takes a slot.
    if (!this.#models.includes(normaliseModel(info.model))) {
      finish(404);
      return sendJson(res, 404, { error: `model "${info.model}" not found, try pulling it first` });
    }
    const admission = this.#scheduler.admit(gone);
    if (admission === null) {
      finish(503);
      return sendJson(res, 503, { error: OLLAMA_BUSY_MESSAGE });
    }
    const release = await admission;
    if (release === null) return finish(null); // client left while queued
    try {
      record.start = Date.now();
      this.#loaded.set(normaliseModel(info.model), record.start);
      this.#windows.set(normaliseModel(info.model), numCtx);
      const picked = (await this.#scenario.pick(info)) ?? defaultReply(info);
      await sleep(picked.latencyMs ?? this.#latencyMs, gone);
      if (gone.aborted) return finish(null);
      if (picked.hang === true) {
        await untilAborted(gone);
        return finish(null);
      }
      if (picked.error !== undefined) {
        finish(picked.error.status);
        return sendRaw(
          res,
          picked.error.status,
          picked.error.body ?? JSON.stringify({ error: `fake error ${picked.error.status}` }),
        );
      }
      const { reply, doneReason } = shapeReply(picked, body);
      record.replyChars = replyChars(reply);
      record.doneReason = doneReason;
      const timing = { arrival, promptTokens: window.promptTokens, doneReason };
      if (!info.stream) {
        finish(200);
        return sendJson(res, 200, chatResponse(info.model, reply, timing));
      }
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const chunk of chatChunks(info.model, reply, timing)) {
        if (gone.aborted) return finish(null);
        res.write(`${JSON.stringify(chunk())}\n`);
        if (reply.chunkDelayMs !== undefined) await sleep(reply.chunkDelayMs, gone);
      }
      finish(200);
      res.end();
    } catch (error) {
      finish(res.headersSent ? null : 500);
      throw error;
    } finally {
      release();
    }
  }
}

export function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  return FakeOllama.start(options);
}
