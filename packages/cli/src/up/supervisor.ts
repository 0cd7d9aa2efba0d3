// Runs Nightshift's services as child processes on one machine (no Docker): prefixed, coloured
// log lines per service, a crashed service restarted with backoff, and a stop in the right
// order (the Director first, so no new work starts; the gateway last, so answers can finish).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceSpec {
  /** Unique name, e.g. `builder-2`. */
  name: string;
  /** Entry file, started as `node <entry>`. */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Lower stops first (director 0 … gateway 9). */
  stopOrder: number;
}

export interface SupervisorOptions {
  /** Where prefixed output lines go. */
  write(line: string): void;
  colour?: boolean;
  /** First restart delay, doubled per crash in a row, capped by maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How long a stopping service may take before SIGKILL. */
  graceMs?: number;
  /** Raw output lines (for tests or a summary); called before printing. */
  onLine?(service: string, line: string): void;
  onExit?(service: string, code: number | null, signal: NodeJS.Signals | null, restarting: boolean): void;
}

interface Running {
  spec: ServiceSpec;
  child: ChildProcess | undefined;
  crashes: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  startedAt: number;
}

const COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #services = new Map<string, Running>();
  #stopping = false;

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  get names(): string[] {
    return [...this.#services.keys()];
  }

  pid(name: string): number | undefined {
    return this.#services.get(name)?.child?.pid;
  }

  restarts(name: string): number {
    return this.#services.get(name)?.restarts ?? 0;
  }

  start(spec: ServiceSpec): void {
    if (this.#services.has(spec.name)) throw new Error(`service ${spec.name} is already running`);
    const running: Running = {
      spec,
      child: undefined,
      crashes: 0,
      restarts: 0,
      timer: undefined,
      startedAt: 0,
    };
    this.#services.set(spec.name, running);
    this.#launch(running);
  }

  #prefix(name: string): string {
    const width = Math.max(12, ...this.names.map((n) => n.length));
    const label = name.padEnd(width);
    if (!this.#o.colour) return `${label} | `;
    const index = [...name].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % COLOURS.length;
    return `\x1b[${COLOURS[index]}m${label}\x1b[0m | `;
  }

  #launch(running: Running): void {
    const { spec } = running;
    const child = spawn(process.execPath, [spec.entry], { env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.child = child;
    running.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.#o.onLine?.(spec.name, line);
        this.#o.write(`${this.#prefix(spec.name)}${line}`);
      });
    }
    child.on('error', (error) =>
      this.#o.write(`${this.#prefix(spec.name)}could not start: ${error.message}`),
    );
    child.on('exit', (code, signal) => {
      running.child = undefined;
      const restarting = !this.#stopping && this.#services.has(spec.name);
      this.#o.onExit?.(spec.name, code, signal, restarting);
      if (!restarting) return;
      // A service that ran a while before dying is not crash-looping: start the backoff afresh.
      running.crashes = Date.now() - running.startedAt > 30_000 ? 1 : running.crashes + 1;
      const base = this.#o.backoffMs ?? 500;
      const delay = Math.min(this.#o.maxBackoffMs ?? 15_000, base * 2 ** (running.crashes - 1));
      this.#o.write(
        `${this.#prefix(spec.name)}exited (${signal ?? `code ${code}`}); restarting in ${delay} ms (restart ${running.restarts + 1})`,
      );
      running.timer = setTimeout(() => {
        running.timer = undefined;
        if (this.#stopping) return;
        running.restarts++;
        this.#launch(running);
      }, delay);
    });
  }

  /** Stops every service, group by group in `stopOrder`, each with SIGTERM then SIGKILL after the grace. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    const groups = new Map<number, Running[]>();
    for (const running of this.#services.values()) {
      if (running.timer) clearTimeout(running.timer);
      const list = groups.get(running.spec.stopOrder) ?? [];
      list.push(running);
      groups.set(running.spec.stopOrder, list);
    }
    for (const order of [...groups.keys()].sort((a, b) => a - b)) {
      await Promise.all((groups.get(order) ?? []).map((r) => this.#stopOne(r)));
    }
  }

  #stopOne(running: Running): Promise<void> {
    const child = running.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.#o.graceMs ?? 20_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
