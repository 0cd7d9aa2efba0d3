// A private redis-server child process on a fixed port and data dir, so it can be killed and
// started again with its AOF intact (chaos tests: "Redis restart with AOF").
import { type ChildProcess, spawn } from 'node:child_process';
import { NightshiftError, TimeoutError } from '@nightshift/protocol';

export interface RedisProcessOptions {
  /** The redis-server binary (default 'redis-server' from PATH). */
  path: string;
  port: number;
  dir: string;
  aof: boolean;
  password: string | undefined;
  startTimeoutMs: number;
}

const READY = /Ready to accept connections/;
const OUTPUT_TAIL = 4_000;

export class RedisProcess {
  readonly #options: RedisProcessOptions;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  readonly #killOnExit = () => this.#child?.kill('SIGKILL');

  constructor(options: RedisProcessOptions) {
    this.#options = options;
  }

  get port(): number {
    return this.#options.port;
  }

  get dir(): string {
    return this.#options.dir;
  }

  /** The server's pid while it runs (a chaos test may `kill -9` it directly). */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  #args(): string[] {
    const o = this.#options;
    const args = [
      ...['--port', String(o.port), '--bind', '127.0.0.1', '--dir', o.dir, '--daemonize', 'no'],
      // No RDB snapshots: persistence is exactly what `aof` says, nothing more.
      ...['--save', '', '--appendonly', o.aof ? 'yes' : 'no', '--appendfsync', 'everysec'],
      // BullMQ requires noeviction (REFERENCE: BullMQ connections).
      ...['--maxmemory-policy', 'noeviction', '--logfile', ''],
    ];
    if (o.password !== undefined) args.push('--requirepass', o.password);
    return args;
  }

  /** Starts the server and resolves once it accepts connections; rejects with its output if it dies. */
  async launch(): Promise<void> {
    if (this.pid !== undefined) return;
    const child = spawn(this.#options.path, this.#args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
    process.once('exit', this.#killOnExit);
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new TimeoutError(`redis-server start on port ${this.port}`, this.#options.startTimeoutMs, {
            details: { output },
          }),
        );
      }, this.#options.startTimeoutMs);
      const onData = (data: Buffer) => {
        output = (output + data.toString('utf8')).slice(-OUTPUT_TAIL);
        if (READY.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error); // ENOENT when the binary is missing: the caller turns it into advice.
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new NightshiftError(
            'REDIS_SERVER_EXITED',
            `redis-server exited (${signal ?? code}) before it was ready`,
            {
              details: { output, port: this.port, addressInUse: /Address already in use/i.test(output) },
            },
          ),
        );
      });
    });
    try {
      await ready;
    } catch (error) {
      await this.#exited;
      process.off('exit', this.#killOnExit);
      this.#child = null;
      throw error;
    }
    // Keep draining the pipes so a chatty server never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
  }

  /**
   * Stops the server: SIGTERM lets Redis flush the AOF and exit cleanly; `hard` is SIGKILL, a
   * crash (with `appendfsync everysec` writes already handed to the OS survive it).
   */
  async kill(hard = false, graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    if (this.pid !== undefined) {
      child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#exited;
    process.off('exit', this.#killOnExit);
    this.#child = null;
  }
}
