// Issue 22 §4 in a real browser (Debian's Chromium through playwright-core): the run page draws the
// morning report's charts with vega in the page and redraws them as the run moves (over SSE, no
// reload); a screenshot is kept mid-run. The team page answers "is everything OK?" with readable
// links, and a run id that does not exist gets a clear page instead of an empty chart.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@nightshift/testkit';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, browserStack } from './support.js';

interface Drawn {
  /** Data points the server said the Gantt plots, and bars vega really drew in the SVG. */
  ganttPoints: number;
  ganttBars: number;
  tokenBars: number;
  draws: number;
}

async function drawn(page: Page): Promise<Drawn> {
  return page.evaluate(() => {
    const fig = (id: string) => document.querySelector(`[data-testid="chart-${id}"]`) as HTMLElement | null;
    const bars = (id: string) => fig(id)?.querySelectorAll('svg g.mark-rect path').length ?? 0;
    return {
      ganttPoints: Number(fig('gantt')?.dataset.points ?? -1),
      ganttBars: bars('gantt'),
      tokenBars: bars('tokens'),
      draws: Number(document.getElementById('charts')?.dataset.draws ?? 0),
    };
  });
}

/** WCAG relative luminance contrast of two `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (bl ?? 0);
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}

// A slow Architect and a slow Builder leave time to look at the charts between steps.
const live = browserStack({ builderLatencyMs: 4000, architectLatencyMs: 2500 });

async function startRun(title: string): Promise<string> {
  const res = await fetch(`${live.stack.dashboardUrl}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: 'Fix the failing sum test', title }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { runId: string }).runId;
}

describe('the run page draws the night as it happens', () => {
  it('draws the report charts live and redraws them as the run moves, without a reload', async () => {
    const base = live.stack.dashboardUrl;
    const runId = await startRun('Live charts');
    await live.stack.waitForStatus(runId, ['planning', 'running'], 60_000);

    const page = await live.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    // A CSP refusal (eval, an inline style, a script without the nonce) is logged as a console error.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.goto(`${base}/runs/${runId}`);
    navigations = 0;

    // First point: the charts are drawn, the Gantt with at least one bar.
    const first = await waitFor(
      async () => {
        const d = await drawn(page);
        return d.ganttBars > 0 ? d : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'the Gantt chart drawn with a bar' },
    ).catch(async (error: unknown) => {
      // Say what the page shows and what the services said: a flake here needs both to be read.
      const shown = await page.evaluate(() => ({
        status: document.body.dataset.status,
        phase: document.body.dataset.phase,
        stream: document.querySelector('[data-testid="stream-state"]')?.textContent,
        chartsError: document.querySelector('[data-testid="charts-error"]')?.textContent,
        draws: document.getElementById('charts')?.dataset.draws,
      }));
      throw new Error(
        `${String(error)}\npage: ${JSON.stringify(shown)} ${JSON.stringify(await drawn(page))}\nproblems: ${problems.join(' | ')}\n${live.stack.tails(20)}`,
      );
    });
    expect(first.ganttBars).toBe(first.ganttPoints);
    await expect(page.getByTestId('charts-error').textContent()).resolves.toBe('');

    // Mid-run (the run has not ended): keep a screenshot of the page with its charts.
    expect(await page.evaluate(() => document.body.dataset.status)).not.toMatch(/finished|failed|aborted/);
    await page.getByTestId('run-charts').screenshot({ path: join(ARTIFACTS, 'live-charts-mid-run.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'run-page-mid-run.png'), fullPage: true });

    // Second point: more steps ended, so the Gantt has more bars, and tokens were counted.
    await expect
      .poll(async () => (await drawn(page)).ganttBars, { timeout: 180_000 })
      .toBeGreaterThan(first.ganttBars);
    const second = await drawn(page);
    expect(second.draws).toBeGreaterThan(first.draws);
    expect(second.ganttPoints).toBeGreaterThan(first.ganttPoints);
    await expect.poll(async () => (await drawn(page)).tokenBars, { timeout: 60_000 }).toBeGreaterThan(0);
    expect(navigations).toBe(0);
    expect(problems).toEqual([]);
    expect(existsSync(join(ARTIFACTS, 'live-charts-mid-run.png'))).toBe(true);
    await page.close();
  });

  it('says so clearly for a run that does not exist, with no charts', async () => {
    const page = await live.browser.newPage();
    const res = await page.goto(`${live.stack.dashboardUrl}/runs/run_doesnotexist`);
    expect(res?.status()).toBe(404);
    await expect(page.locator('main').textContent()).resolves.toContain('No run run_doesnotexist.');
    expect(await page.getByTestId('run-charts').count()).toBe(0);
    await page.close();
  });
});

describe('the team page', () => {
  it('answers "is everything OK?" first, with links readable on the dark theme', async () => {
    const runId = await startRun('Team page');
    const page = await live.browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${live.stack.dashboardUrl}/`);
    const verdict = page.getByTestId('overview-verdict');
    await expect(verdict.textContent()).resolves.toMatch(/All clear|Needs attention/);
    const order = await page.evaluate(() =>
      [...document.querySelectorAll('main [data-testid]')].map((e) => (e as HTMLElement).dataset.testid),
    );
    expect(order.indexOf('overview-alerts')).toBeLessThan(order.indexOf('overview-waiting'));
    expect(order.indexOf('overview-waiting')).toBeLessThan(order.indexOf('overview-running'));
    expect(order.indexOf('overview-running')).toBeLessThan(order.indexOf('runs-table'));
    const link = page.getByTestId(`run-link-${runId}`);
    await link.waitFor({ timeout: 30_000 });
    const colours = await link.evaluate((a) => {
      let bg = 'rgba(0, 0, 0, 0)';
      for (let e: Element | null = a; e && /rgba\(0, 0, 0, 0\)|transparent/.test(bg); e = e.parentElement)
        bg = getComputedStyle(e).backgroundColor;
      return { fg: getComputedStyle(a).color, bg };
    });
    // WCAG AA for normal text: 4.5:1 (a dark blue link on the near-black card was about 2:1).
    expect(contrast(colours.fg, colours.bg), JSON.stringify(colours)).toBeGreaterThanOrEqual(4.5);
    await page.screenshot({ path: join(ARTIFACTS, 'team-page.png'), fullPage: true });
    await page.close();
  });
});
