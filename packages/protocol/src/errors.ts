// The error vocabulary shared by every package: one base class with a stable code and a
// category that tells callers what to do (retry, fail the job, refuse, stop).

export type ErrorCategory = 'invalid-input' | 'transient' | 'fatal' | 'policy';

export interface NightshiftErrorOptions {
  category?: ErrorCategory;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export interface NightshiftErrorJSON {
  name: string;
  code: string;
  category: ErrorCategory;
  message: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class NightshiftError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: NightshiftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.category = options.category ?? 'fatal';
    this.details = options.details;
  }

  /** Transient errors are the only ones worth retrying. */
  get retryable(): boolean {
    return this.category === 'transient';
  }

  toJSON(): NightshiftErrorJSON {
    const json: NightshiftErrorJSON = {
      name: this.name,
      code: this.code,
      category: this.category,
      message: this.message,
    };
    if (this.details !== undefined) json.details = this.details;
    if (this.cause !== undefined) json.cause = serialiseCause(this.cause);
    return json;
  }
}

function serialiseCause(cause: unknown): unknown {
  if (cause instanceof NightshiftError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return String(cause);
}

/** One problem found while validating input: where, what was there, what was expected. */
export interface Problem {
  path: string;
  expected: string;
  received?: string;
}

const FAILURE_RE = /^\[([A-Z0-9_]+)\/(invalid-input|transient|fatal|policy)\] ([\s\S]*)$/;

/**
 * `[CODE/category] message`: how a job's failure reason carries a typed error through BullMQ
 * (readable in Bull Board, read back by parseFailureReason: the gateway client, the Sentinel).
 */
export function failureReason(error: Pick<NightshiftError, 'code' | 'category' | 'message'>): string {
  return `[${error.code}/${error.category}] ${error.message}`;
}

/** The code, category and message of a failureReason; undefined for a reason without the prefix. */
export function parseFailureReason(
  reason: string,
): { code: string; category: ErrorCategory; message: string } | undefined {
  const match = FAILURE_RE.exec(reason);
  if (!match) return undefined;
  const [, code = '', category, message = ''] = match;
  return { code, category: category as ErrorCategory, message };
}

/** `field: expected; other.field: expected` — how every problem list is shown (root = `(root)`). */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path || '(root)'}: ${p.expected}`).join('; ');
}

/** Input that can never succeed however often it is retried (maps to BullMQ's UnrecoverableError). */
export class ValidationError extends NightshiftError {
  readonly problems: readonly Problem[];
  constructor(
    what: string,
    problems: readonly Problem[],
    options: Omit<NightshiftErrorOptions, 'category'> = {},
  ) {
    super('INVALID_INPUT', `invalid ${what}: ${describeProblems(problems)}`, {
      ...options,
      category: 'invalid-input',
      details: { ...options.details, problems },
    });
    this.problems = problems;
  }
}

/** Configuration that cannot start the service; lists every problem at once. */
export class ConfigError extends NightshiftError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    const list = problems.map(
      (p) => `  - ${p.path}: expected ${p.expected}${p.received ? ` (got ${p.received})` : ''}`,
    );
    super('CONFIG_INVALID', `invalid configuration:\n${list.join('\n')}`, {
      category: 'fatal',
      details: { problems },
    });
    this.problems = problems;
  }
}

/** A markdown message that does not follow the guide's format; `line` is 1-based. */
export class MessageParseError extends NightshiftError {
  readonly line: number;
  constructor(line: number, reason: string, options: Omit<NightshiftErrorOptions, 'category'> = {}) {
    super('MESSAGE_PARSE', `line ${line}: ${reason}`, { ...options, category: 'invalid-input' });
    this.line = line;
  }
}

/** A message whose sender may not send that type to that recipient (guide §5 topology). */
export class TopologyViolation extends NightshiftError {
  constructor(reason: string, details: Record<string, unknown>) {
    super('TOPOLOGY_VIOLATION', reason, { category: 'policy', details });
  }
}

/** More LLM calls are waiting than OLLAMA_MAX_QUEUE allows; back off and retry. */
export class LlmQueueFull extends NightshiftError {
  constructor(waiting: number, maxQueue: number) {
    super('LLM_QUEUE_FULL', `LLM queue full: ${waiting} calls waiting, limit ${maxQueue}`, {
      category: 'transient',
      details: { waiting, maxQueue },
    });
  }
}

/** A tool asked to touch something outside the run's workspace. */
export class SandboxViolation extends NightshiftError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('SANDBOX_VIOLATION', reason, { category: 'policy', details });
  }
}

/**
 * The OS sandbox around child processes could not start (bubblewrap missing, user namespaces
 * disabled, a container's seccomp refusing it). Commands fail closed: nothing runs unconfined
 * unless the configuration says so explicitly (issue 17 §3). `fix` says what to install or set.
 */
export class SandboxUnavailable extends NightshiftError {
  readonly fix: string;
  constructor(reason: string, fix: string, options: Omit<NightshiftErrorOptions, 'category'> = {}) {
    super('SANDBOX_UNAVAILABLE', `${reason}. Fix: ${fix}`, {
      ...options,
      category: 'fatal',
      details: { ...options.details, reason, fix },
    });
    this.fix = fix;
  }
}

/** Anything that went past its deadline (a role timeout, a model call). */
export class TimeoutError extends NightshiftError {
  constructor(what: string, ms: number, options: Omit<NightshiftErrorOptions, 'category'> = {}) {
    super('TIMEOUT', `${what} timed out after ${ms} ms`, { ...options, category: 'transient' });
  }
}

export function isNightshiftError(error: unknown): error is NightshiftError {
  return error instanceof NightshiftError;
}
