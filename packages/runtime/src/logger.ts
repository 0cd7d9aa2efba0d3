// pino JSON logger: bindings { service, role } (children add runId, jobId), key redaction, and a last-line secret scrub.
import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';
import { CENSOR, SecretScrubber } from './scrub.js';

export type { Logger } from 'pino';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  /** Service name, on every line (`director`, `agent`, `llm-gateway`, …). */
  service: string;
  level?: LogLevel;
  /** Agent role of this process, on every line when set. */
  role?: string;
  /** Where lines go; default stdout, written synchronously so a fatal line survives an exit. */
  destination?: DestinationStream;
  /** Secret values (e.g. the actual ANTHROPIC_API_KEY) cut out of every line of this logger. */
  secrets?: Iterable<string | undefined>;
}

/** Key paths pino censors structurally; the line scrubber also censors these keys at any depth. */
export const REDACT_PATHS: readonly string[] = [
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'ANTHROPIC_API_KEY',
  '*.ANTHROPIC_API_KEY',
  'DASHBOARD_TOKEN',
  '*.DASHBOARD_TOKEN',
  'ALERT_WEBHOOK_SECRET',
  '*.ALERT_WEBHOOK_SECRET',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
];

const processSecrets = new SecretScrubber();

/**
 * Registers a secret for every logger of this process (existing ones too). Call it in main.ts
 * with `config.anthropic.apiKey`, the Redis password, tokens; undefined/empty is ignored.
 */
export function registerSecret(value: string | undefined): void {
  processSecrets.add(value);
}

/** Masks URL passwords and registered secrets in any text (for things that are not log lines, e.g. HTTP errors). */
export function scrubText(text: string): string {
  return processSecrets.scrubText(text);
}

export function createLogger(options: LoggerOptions): Logger {
  const scrubber = new SecretScrubber(options.secrets ?? [], processSecrets);
  const base: Record<string, unknown> = { pid: process.pid, hostname: hostname(), service: options.service };
  if (options.role !== undefined) base.role = options.role;
  return pino(
    {
      level: options.level ?? 'info',
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
      serializers: { err: pino.stdSerializers.errWithCause, error: pino.stdSerializers.errWithCause },
      // The last step before bytes leave: whatever a serializer, child binding or message
      // interpolation produced, registered secrets and URL passwords are cut out here.
      hooks: { streamWrite: (line) => scrubber.scrubJsonLine(line) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
