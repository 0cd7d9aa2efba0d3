// Connection errors repeat on every reconnect attempt while Redis is down: log the first of a
// kind at once, then at most one summary per interval, so an outage does not flood the logs.
import type { Logger } from './logger.js';

export function throttledErrorLog(logger: Logger, what: string, intervalMs = 5000): (error: Error) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (error) => {
    const kind = `${(error as { code?: unknown }).code ?? error.name}:${error.message}`;
    const now = Date.now();
    const seen = last.get(kind);
    if (seen && now - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    last.set(kind, { at: now, suppressed: 0 });
    logger.warn({ err: error, ...(suppressed > 0 ? { suppressed } : {}) }, what);
  };
}
