// `nightshift report <runId> [--out DIR] [--png]`: the morning report — a self-contained HTML
// page with charts and its markdown twin, from the run's events, bus messages and LLM call log.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseLlmCallLog } from '@nightshift/charts';
import { type Config, loadConfig, unconfinedWarning } from '@nightshift/config';
import { fold, parseRunEvent } from '@nightshift/core';
import type { Message } from '@nightshift/protocol';
import { createArchivedRunStore, createBus, createKeys } from '@nightshift/redis';
import { gitDiffStat } from '@nightshift/tools';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { nightOf } from '../plan/recorded.js';
import { branchHtml, branchMarkdown, loadBranchSection, withBranchHtml } from '../report/branch-section.js';
import { charts } from '../report/charts.js';
import { buildReportData } from '../report/data.js';
import { toHtml, toMarkdown } from '../report/render.js';

/** Writes report.html and report.md for a run; returns their paths (and the HTML's directory). */
export async function writeReport(
  config: Config,
  runId: string,
  outDir?: string,
): Promise<{ html: string; markdown: string }> {
  const keys = createKeys(config.redis.prefix);
  const bus = createBus({ url: config.redis.url, keys, connection: { maxRetriesPerRequest: 2 } });
  try {
    // Issue 21 §2: a run moved out of Redis is read from its archive, the same data as before.
    const { store, archive } = createArchivedRunStore(bus.redis, keys, config.memoryDir);
    const stored = await store.read(runId);
    if (stored.length === 0)
      throw new Error(
        `no run ${runId} under prefix ${config.redis.prefix} nor in the archive ${archive.dir}`,
      );
    const events = stored.map((s) => parseRunEvent(s.event));
    const archived = await store.archived(runId);
    const messages: Message[] = archived ? archived.messages() : [];
    let after: string | undefined;
    while (!archived) {
      const page = await bus.readLog({ count: 1000, ...(after ? { after } : {}) });
      for (const e of page) if (e.message?.runId === runId) messages.push(e.message);
      if (page.length < 1000) break;
      after = page.at(-1)?.id;
    }
    const llmKey = keys.custom('run', runId, 'llm');
    const { calls: llmCalls } = parseLlmCallLog(
      archived ? archived.stream(llmKey) : await bus.redis.xrange(llmKey, '-', '+'),
    );
    const state = fold(events);
    // Issue 18 §3: the run's branch, commits and diff (`git diff --stat base...branch`), read from
    // the user's repository. A run from before issue 18 worked in place: the workspace's own diff.
    const branch = await loadBranchSection(state.checkout);
    const workspace = state.workspace;
    // The workspace's git runs in the sandbox too: its config (core.fsmonitor…) was written by a model.
    const diffStat =
      branch.branch?.diffStat.trim() ||
      (state.checkout === undefined && workspace && existsSync(join(workspace, '.git'))
        ? await gitDiffStat(workspace, { sandbox: { mode: config.tools.sandbox } }).catch(() => undefined)
        : undefined);
    // Issue 24 §3: the forecast recorded when the night started (`plan --record`), and its night's.
    const forecast = await nightOf(bus.redis, keys, store, runId);
    const data = buildReportData({
      runId,
      forecast,
      events,
      messages,
      llmCalls,
      memoryDir: config.memoryDir,
      diffStat,
      warning: unconfinedWarning(config),
    });
    const rendered = await charts(data);
    const out = resolve(outDir ?? join(config.memoryDir, runId, 'report'));
    mkdirSync(out, { recursive: true });
    const html = join(out, 'report.html');
    const markdown = join(out, 'report.md');
    writeFileSync(html, withBranchHtml(toHtml(data, rendered), branchHtml(branch, runId)));
    writeFileSync(
      markdown,
      toMarkdown(
        data,
        rendered.map((c) => c.title),
      ) + branchMarkdown(branch, runId),
    );
    return { html, markdown };
  } finally {
    await bus.close();
  }
}

export function registerReport(program: Command, deps: CliDeps): void {
  program
    .command('report')
    .description('write the morning report of a run: HTML with charts, and markdown')
    .argument('<runId>', 'the run')
    .option('--out <dir>', 'output directory (default: MEMORY_DIR/<runId>/report)')
    .option('--png', 'also render a PNG of the page with headless Chromium (/usr/bin/chromium)', false)
    .action(async (runId: string, opts: { out?: string; png: boolean }) => {
      const config = loadConfig(deps.env ?? {});
      const { html, markdown } = await writeReport(config, runId, opts.out);
      const out = dirname(html);
      deps.stdout(`report: ${html}\nmarkdown: ${markdown}\n`);

      if (opts.png) {
        const png = join(out, 'report.png');
        const browser = '/usr/bin/chromium';
        if (!existsSync(browser))
          throw new Error('--png needs Chromium at /usr/bin/chromium (apt-get install chromium)');
        const shot = spawnSync(
          browser,
          [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--no-first-run',
            `--screenshot=${png}`,
            '--window-size=1200,2400',
            `file://${html}`,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        if (shot.status !== 0 || !existsSync(png))
          throw new Error(`chromium could not render the PNG: ${shot.stderr.slice(0, 300)}`);
        deps.stdout(`png: ${png}\n`);
      }
    });
}
