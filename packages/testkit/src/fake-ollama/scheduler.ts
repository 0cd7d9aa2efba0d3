// Ollama's admission model: OLLAMA_NUM_PARALLEL requests run at once, OLLAMA_MAX_QUEUE wait,
// anything past that is refused (HTTP 503). Tracks the peak concurrency a test asserts on.

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class SlotScheduler {
  readonly numParallel: number;
  readonly maxQueue: number;
  #running = 0;
  #maxConcurrent = 0;
  #maxQueued = 0;
  readonly #queue: Waiter[] = [];

  constructor(numParallel: number, maxQueue: number) {
    if (!Number.isInteger(numParallel) || numParallel < 1)
      throw new RangeError('numParallel must be an integer ≥ 1');
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be an integer ≥ 0');
    this.numParallel = numParallel;
    this.maxQueue = maxQueue;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Highest number of requests that ever ran at once since construction or resetPeaks(). */
  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }

  get maxQueued(): number {
    return this.#maxQueued;
  }

  resetPeaks(): void {
    this.#maxConcurrent = this.#running;
    this.#maxQueued = this.#queue.length;
  }

  /**
   * Admits a request: `null` when the wait queue is full (the caller answers 503), else a
   * promise of a slot. An abort while queued leaves the queue and resolves with `null`.
   */
  admit(signal?: AbortSignal): Promise<Release | null> | null {
    if (this.#running < this.numParallel && this.#queue.length === 0) {
      return Promise.resolve(this.#take());
    }
    if (this.#queue.length >= this.maxQueue) return null;
    return new Promise<Release | null>((resolve) => {
      const waiter: Waiter = {
        grant: (release) => resolve(release),
        signal,
        onAbort: () => {
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) this.#queue.splice(index, 1);
          resolve(null);
        },
      };
      if (signal?.aborted) return resolve(null);
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#queue.push(waiter);
      this.#maxQueued = Math.max(this.#maxQueued, this.#queue.length);
    });
  }

  #take(): Release {
    this.#running += 1;
    this.#maxConcurrent = Math.max(this.#maxConcurrent, this.#running);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running -= 1;
      this.#next();
    };
  }

  #next(): void {
    while (this.#running < this.numParallel) {
      const waiter = this.#queue.shift();
      if (waiter === undefined) return;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.grant(this.#take());
    }
  }
}
