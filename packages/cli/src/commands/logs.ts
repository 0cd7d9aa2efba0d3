// `nightshift logs`: bus:log, the total order of every message, rendered in the guide's
// markdown form (or one JSON object per line), optionally followed live until Ctrl-C.
import { MESSAGE_TYPES, RecipientSchema, render, SenderSchema } from '@nightshift/protocol';
import type { Bus, LogEntry } from '@nightshift/redis';
import { type Command, Option } from 'commander';
import { type CliDeps, withBus } from '../deps.js';
import { parseId, parsePositiveInt, parseStreamId } from '../options.js';

interface LogsOptions {
  follow?: boolean;
  run?: string;
  from?: string;
  to?: string;
  type?: string;
  json?: boolean;
  since?: string;
  limit: number;
}

const PAGE = 500;
const RULE_WIDTH = 72;
const RAW_PREVIEW = 500;

export function registerLogs(program: Command, deps: CliDeps): void {
  program
    .command('logs')
    .description('show bus:log (every message, in order); --follow to keep watching')
    .option('-f, --follow', 'keep printing new entries until Ctrl-C')
    .addOption(new Option('--run <id>', 'only this run').argParser(parseId))
    .addOption(new Option('--from <sender>', 'only from this sender').choices(SenderSchema.options))
    .addOption(new Option('--to <recipient>', 'only to this recipient').choices(RecipientSchema.options))
    .addOption(new Option('--type <type>', 'only this message type').choices(MESSAGE_TYPES))
    .option('--json', 'one JSON object per line: {logId, message} or {logId, error, raw}')
    .addOption(new Option('--since <id>', 'only entries after this log entry id').argParser(parseStreamId))
    .addOption(
      new Option('--limit <n>', 'most past entries to print (the newest, or the first after --since)')
        .argParser(parsePositiveInt)
        .default(100),
    )
    .action(async (options: LogsOptions) => {
      await withBus(deps, async (bus) => {
        const matches = filterOf(options);
        const print = (entry: LogEntry) => {
          if (matches(entry)) deps.stdout(options.json ? jsonLine(entry) : human(entry));
        };
        // The newest id before reading history: history ends there and the tail starts there,
        // so nothing is printed twice or missed in between.
        const head = (await bus.readLog({ reverse: true, count: 1 }))[0]?.id;
        const history = head === undefined ? [] : await readHistory(bus, head, options, matches);
        for (const entry of history) print(entry);
        if (options.follow) {
          await bus.tailLog(print, { from: head ?? '0-0', signal: deps.signal });
        }
      });
    });
}

function filterOf(options: LogsOptions): (entry: LogEntry) => boolean {
  const filtered = [options.run, options.from, options.to, options.type].some((v) => v !== undefined);
  return (entry) => {
    const m = entry.message;
    // An unreadable entry cannot match a filter; unfiltered, it is shown as what it is.
    if (!m) return !filtered;
    if (options.run !== undefined && m.runId !== options.run) return false;
    if (options.from !== undefined && m.from !== options.from) return false;
    if (options.to !== undefined && m.to !== options.to) return false;
    return options.type === undefined || m.type === options.type;
  };
}

/** Matching entries up to `head`: the first `limit` after --since, else the newest `limit`. */
async function readHistory(
  bus: Bus,
  head: string,
  options: LogsOptions,
  matches: (entry: LogEntry) => boolean,
): Promise<LogEntry[]> {
  const found: LogEntry[] = [];
  if (options.since !== undefined) {
    let after = options.since;
    while (found.length < options.limit) {
      const page = await bus.readLog({ after, to: head, count: PAGE });
      for (const entry of page) if (matches(entry) && found.length < options.limit) found.push(entry);
      const last = page.at(-1);
      if (!last || page.length < PAGE) break;
      after = last.id;
    }
    return found;
  }
  let to = head;
  let first = true;
  while (found.length < options.limit) {
    const page = await bus.readLog({ reverse: true, to: first ? to : `(${to}`, count: PAGE });
    first = false;
    for (const entry of page) if (matches(entry) && found.length < options.limit) found.push(entry);
    const last = page.at(-1);
    if (!last || page.length < PAGE) break;
    to = last.id;
  }
  return found.reverse();
}

function jsonLine(entry: LogEntry): string {
  const line = entry.message
    ? { logId: entry.id, message: entry.message }
    : { logId: entry.id, error: entry.error, raw: entry.raw };
  return `${JSON.stringify(line)}\n`;
}

function rule(id: string): string {
  const label = `── ${id} `;
  return label + '─'.repeat(Math.max(3, RULE_WIDTH - label.length));
}

function human(entry: LogEntry): string {
  if (entry.message) return `${rule(entry.id)}\n${render(entry.message)}`;
  const raw = JSON.stringify(entry.raw);
  const preview = raw.length > RAW_PREVIEW ? `${raw.slice(0, RAW_PREVIEW)}… (${raw.length} chars)` : raw;
  return `${rule(entry.id)}\n[unreadable entry: ${entry.error ?? 'unknown problem'}]\n${preview}\n`;
}
