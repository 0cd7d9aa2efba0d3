import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';
import { runService } from './runner.js';
import { defineService, type Service } from './service.js';

function harness(service: Service, graceMs = 30_000) {
  const proc = new EventEmitter();
  const exit = vi.fn<(code: number) => void>();
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: 'test',
    level: 'trace',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  const runner = runService(service, { logger, process: proc, exit, graceMs });
  return { proc, exit, lines, runner };
}

/** Polls a condition instead of sleeping a fixed time (robust on a loaded machine). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function counting() {
  const calls = { start: 0, stop: 0 };
  const service = defineService({
    name: 'svc',
    start: () => {
      calls.start++;
    },
    stop: () => {
      calls.stop++;
    },
  });
  return { calls, service };
}

describe('runService', () => {
  it('SIGTERM stops once, even when signalled twice and then SIGINT; exits 0', async () => {
    const { calls, service } = counting();
    const { proc, exit, runner } = harness(service);
    await until(() => calls.start === 1);
    proc.emit('SIGTERM');
    proc.emit('SIGTERM');
    proc.emit('SIGINT');
    expect(await runner.done).toBe(0);
    expect(calls.stop).toBe(1);
    expect(exit).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
    // listeners are gone afterwards: nothing of the runner stays attached to the process
    expect(proc.listenerCount('SIGTERM') + proc.listenerCount('SIGINT')).toBe(0);
    expect(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection')).toBe(0);
  });

  it('a stop that outlives the grace period exits with 1 and logs why', async () => {
    const service = defineService({ name: 'stuck', stop: () => new Promise<void>(() => undefined) });
    const { proc, exit, lines, runner } = harness(service, 20);
    await until(() => lines.some((l) => l.msg === 'started'));
    proc.emit('SIGTERM');
    expect(await runner.done).toBe(1);
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines.find((l) => l.level === 60)?.msg).toMatch(/did not stop within 20 ms/);
  });

  it('a failed start is logged fatal, the service is stopped, exit 1', async () => {
    let stopped = 0;
    const service = defineService({
      name: 'bad',
      start: () => {
        throw new Error('no redis');
      },
      stop: () => {
        stopped++;
      },
    });
    const { exit, lines, runner } = harness(service);
    expect(await runner.done).toBe(1);
    expect(stopped).toBe(1);
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines.some((l) => l.level === 60 && l.msg === 'failed to start')).toBe(true);
  });

  it.each(['uncaughtException', 'unhandledRejection'])(
    '%s is logged fatal and triggers a stop with exit 1',
    async (event) => {
      const { calls, service } = counting();
      const { proc, exit, lines, runner } = harness(service);
      await until(() => calls.start === 1);
      proc.emit(event, new Error('kaboom'));
      expect(await runner.done).toBe(1);
      expect(calls.stop).toBe(1);
      expect(exit).toHaveBeenCalledWith(1);
      const fatal = lines.find((l) => l.level === 60);
      expect(JSON.stringify(fatal)).toContain('kaboom');
    },
  );

  it('accepts an async factory, and a signal during start stops after start settles', async () => {
    let release: () => void = () => undefined;
    const journal: string[] = [];
    const proc = new EventEmitter();
    const exit = vi.fn<(code: number) => void>();
    const logger = createLogger({ service: 'test', level: 'silent' });
    const runner = runService(
      async () =>
        defineService({
          name: 'slow',
          start: () =>
            new Promise<void>((resolve) => {
              release = () => {
                journal.push('started');
                resolve();
              };
            }),
          stop: () => void journal.push('stopped'),
        }),
      { logger, process: proc, exit },
    );
    proc.emit('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 0));
    release();
    expect(await runner.done).toBe(0);
    expect(journal).toEqual(['started', 'stopped']);
  });

  it('stop() can be called directly and is idempotent', async () => {
    const { calls, service } = counting();
    const { exit, runner } = harness(service);
    const a = runner.stop('test');
    expect(runner.stop('again')).toBe(a);
    expect(await a).toBe(0);
    expect(calls.stop).toBe(1);
    expect(exit).toHaveBeenCalledTimes(1);
  });
});
