// The bus's public shapes: options, results, consumer and log entries (guide §5 transport).
import type { Message, Role } from '@nightshift/protocol';
import type { JobsOptions } from 'bullmq';
import type { ConnectionOptions, RedisClient } from '../connection.js';
import type { Keys } from '../keys.js';

export interface BusOptions {
  url: string;
  keys: Keys;
  /** `MAXLEN ~` of every bus stream (default 100,000). */
  streamMaxLen?: number;
  /** Deliveries after which a stream entry goes to `dead-letter` (default 5). */
  maxDeliveries?: number;
  /** An entry pending this long belongs to a consumer presumed dead and is reclaimed (default 60,000 ms). */
  claimIdleMs?: number;
  /** Every connection, queue and consumer error goes here; the default emits a process warning. */
  onError?: (error: Error) => void;
  /** Extra options for the connections the bus opens (e.g. a small maxRetriesPerRequest for a CLI). */
  connection?: Omit<ConnectionOptions, 'onError' | 'maxRetriesPerRequest' | 'lazyConnect'> & {
    maxRetriesPerRequest?: number;
  };
  /** Overrides for the BullMQ options of REQUEST jobs (job id and priority are always set by the bus). */
  requestJobOptions?: Omit<JobsOptions, 'jobId' | 'priority'>;
  /** How long a published message id is remembered, so a re-send is neither delivered nor logged again, nor a taken REQUEST queued again (default 7 days). */
  dedupeTtlMs?: number;
}

export interface PublishResult {
  /** Entry id in `bus:log`. */
  logId: string;
  /** Entry id in `bus:to:<to>` (every type but REQUEST; absent for a duplicate). */
  streamId?: string;
  /** BullMQ job id on `agent.<to>` (REQUEST only; equals the message id). */
  jobId?: string;
  /** True when this message id was published before: nothing new was delivered or logged (a REQUEST's job is added again only if it was lost before a consumer took it). */
  duplicate?: boolean;
}

/** What an agent asks of Redis before working on a REQUEST (`Bus.startTask`). */
export interface StartTaskInput {
  requestId: string;
  /** The id its RESPONSE is (or will be) published under: derived from the request id. */
  responseId: string;
  /** The STATUS to publish when the task goes ahead; validated like `publish`. */
  status: unknown;
  /** This attempt's clock, ms since the epoch. */
  now: number;
  /** Keep the task's first start this long, ms (so a restarted attempt sees it); absent = not kept. */
  keepStartMs?: number;
  /** With a kept start: past first start + this, the task is `expired` and no STATUS is sent. */
  runTimeoutMs?: number;
}

/**
 * `answered`: its RESPONSE was published before (nothing else was written but the taken mark);
 * `expired`: its run timeout, counted from the first start, has passed (no STATUS was sent);
 * `started`: go ahead, the STATUS is published (or was, under that id, before).
 */
export type StartTaskResult =
  | { state: 'answered'; logId: string }
  | { state: 'expired'; startedAt: number }
  | { state: 'started'; startedAt: number; status: PublishResult };

export interface MessageMeta {
  stream: string;
  entryId: string;
  /** How many times this entry has been delivered to the group, this delivery included. */
  deliveries: number;
}

export type MessageHandler = (message: Message, meta: MessageMeta) => Promise<void>;

export interface ConsumeOptions {
  /** Consumer group (default: the recipient role). */
  group?: string;
  /** Consumer name inside the group (default hostname-pid-random). */
  consumer?: string;
  /** Longest XREADGROUP BLOCK, ms (default 2000). */
  blockMs?: number;
  /** Also read the `ALL` stream (default true). */
  alsoAll?: boolean;
  /** Entries read per XREADGROUP (default 10). */
  count?: number;
}

export interface ConsumeStreamOptions {
  stream: string | readonly string[];
  group: string;
  consumer?: string;
  handler: MessageHandler;
  blockMs?: number;
  count?: number;
  /** Where a new group starts: '0' = the whole stream (default), '$' = only new entries. */
  startId?: string;
  /** Defaults: the bus's. */
  claimIdleMs?: number;
  maxDeliveries?: number;
  /** How often to look for stuck entries (default claimIdleMs / 2, between 50 ms and 30 s). */
  claimIntervalMs?: number;
  /** Dead-letter entries that break the guide's topology (default true). */
  enforceTopology?: boolean;
  /** Extra acceptance check: return a reason to dead-letter the entry, or undefined to handle it. */
  accept?: (message: Message, stream: string) => string | undefined;
}

export interface Consumer {
  readonly group: string;
  readonly consumer: string;
  readonly streams: readonly string[];
  /** Resolves once the consumer groups exist (or the consumer was stopped first). */
  readonly ready: Promise<void>;
  /** Ends the loop promptly and waits for the handler in flight. Idempotent. */
  stop(): Promise<void>;
}

/** What a `dead-letter` job holds. Stream entries fill stream/entryId/group/fields; others fill payload. */
export interface DeadLetterData {
  source: string;
  reason: string;
  deliveries: number;
  /** When it was dead-lettered (ISO 8601). */
  at: string;
  stream?: string;
  entryId?: string;
  group?: string;
  /** The raw stream entry, unchanged. */
  fields?: Record<string, string>;
  payload?: unknown;
}

export interface DeadLetterInput {
  /** Where it came from: a queue name, a stream key, a component. */
  source: string;
  reason: string;
  deliveries?: number;
  payload: unknown;
  /** Job id, to make a retried dead-lettering idempotent (default: a new id). */
  id?: string;
}

export interface LogEntry {
  /** Entry id in `bus:log`. */
  id: string;
  /** The message, when the entry holds a valid one. */
  message?: Message;
  /** The entry's fields as stored. */
  raw: Record<string, string>;
  /** Why the entry is not a valid message. */
  error?: string;
}

export interface ReadLogOptions {
  /** First entry id, inclusive (default '-', the oldest). */
  from?: string;
  /** Start strictly after this id (wins over `from`). */
  after?: string;
  /** Last entry id, inclusive (default '+', the newest). */
  to?: string;
  /** Most entries returned (default 100). */
  count?: number;
  /** Newest first (then `from`/`after` bound the far end and `to` is where reading starts). */
  reverse?: boolean;
}

export interface TailLogOptions {
  /** '$' = only entries appended from now on (default), or an entry id to continue after. */
  from?: string;
  /** XREAD BLOCK per round, ms (default 5000). */
  blockMs?: number;
  /** Abort to stop tailing; tailLog then resolves. */
  signal?: AbortSignal;
  count?: number;
}

export interface Bus {
  readonly keys: Keys;
  /** The bus's command connection (shared, non-blocking); owned by the bus. */
  readonly redis: RedisClient;
  publish(message: unknown): Promise<PublishResult>;
  /** The bus-log entry id under which this message id was published, or null (guard expired or never). */
  publishedAs(messageId: string): Promise<string | null>;
  /**
   * One round trip before an agent works on a REQUEST: marks it taken (a re-publish then never
   * queues it again), tells whether it was answered, keeps its first start, publishes the STATUS.
   */
  startTask(input: StartTaskInput): Promise<StartTaskResult>;
  /** Marks a REQUEST taken, for a consumer with no `startTask` (the Scribe); false if already marked or unknown. */
  markTaken(requestId: string): Promise<boolean>;
  consume(recipient: Role, handler: MessageHandler, options?: ConsumeOptions): Consumer;
  consumeStream(options: ConsumeStreamOptions): Consumer;
  deadLetter(entry: DeadLetterInput): Promise<string>;
  readLog(options?: ReadLogOptions): Promise<LogEntry[]>;
  tailLog(handler: (entry: LogEntry) => void | Promise<void>, options?: TailLogOptions): Promise<void>;
  /** Stops every consumer and tail, then closes every queue and connection the bus opened. */
  close(): Promise<void>;
}
