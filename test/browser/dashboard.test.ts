// Issue 11 acceptance, in a real browser (Debian's Chromium through playwright-core): start a run
// from the team view, watch it move through the phases live (SSE, no reload), pause the Builder's
// queue, see it paused in Bull Board, resume it, and keep screenshots in test-artifacts/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@nightshift/testkit';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, browserStack } from './support.js';

interface BoardQueue {
  name: string;
  isPaused: boolean;
}

async function builderPausedInBoard(page: Page, base: string): Promise<boolean> {
  const res = await page.request.get(`${base}/queues/api/queues`);
  expect(res.ok()).toBe(true);
  const { queues } = (await res.json()) as { queues: BoardQueue[] };
  const builder = queues.find((q) => q.name === 'agent.builder');
  if (!builder)
    throw new Error(`Bull Board does not list agent.builder: ${queues.map((q) => q.name).join(', ')}`);
  return builder.isPaused;
}

// A slow Architect keeps P1 and a slow Builder keeps P2 on screen long enough to watch.
const live = browserStack({ builderLatencyMs: 4000, architectLatencyMs: 2500 });

describe('the team view in a browser', () => {
  it('shows a run live, pauses and resumes the Builder, and Bull Board agrees', async () => {
    const base = live.stack.dashboardUrl;
    const page = await live.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    // Start a run from the front page's form.
    await page.goto(`${base}/`);
    await page.getByTestId('new-run-task').fill('Fix the failing sum test');
    await page.getByTestId('new-run-submit').click();
    await expect
      .poll(() => page.getByTestId('action-result').textContent(), { timeout: 15_000 })
      .toMatch(/Started run_/);
    const runId = ((await page.getByTestId('action-result').textContent()) ?? '')
      .replace('Started ', '')
      .trim();

    // It appears in the list (refreshed in place) once the Director has created it; open it.
    const link = page.getByTestId(`run-link-${runId}`);
    await link.waitFor({ timeout: 60_000 });
    await link.click();
    await page.waitForURL(`**/runs/${runId}`);
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    // Record every phase label the panel shows from now on (it only changes through SSE).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seenPhases: string[] }).seenPhases = seen;
      const record = () => {
        const text = document.querySelector('[data-testid="run-phase"]')?.textContent ?? '';
        if (text !== '' && seen.at(-1) !== text) seen.push(text);
      };
      record();
      new MutationObserver(record).observe(document.getElementById('panel') as HTMLElement, {
        childList: true,
        subtree: true,
        characterData: true,
      });
    });
    await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 15_000 }).toBe('live');

    // The phase moves to Execution without a reload.
    await expect.poll(() => page.getByTestId('run-phase').textContent(), { timeout: 60_000 }).toMatch(/^P2 /);

    // Pause the Builder's queue from the agents table.
    await page.getByTestId('agent-pause-builder').click();
    await expect
      .poll(() => page.getByTestId('action-result').textContent(), { timeout: 15_000 })
      .toMatch(/OK: agent\.builder paused/);
    await waitFor(() => builderPausedInBoard(page, base), {
      timeoutMs: 15_000,
      what: 'agent.builder paused in Bull Board',
    });
    await page.getByTestId('agent-resume-builder').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('agent-state-builder').textContent()).toBe('paused');

    // Bull Board's own page shows the queue; keep a screenshot of it.
    const board = await live.browser.newPage({ viewport: { width: 1400, height: 900 } });
    await board.goto(`${base}/queues/queue/agent.builder`);
    await board.getByText('agent.builder').first().waitFor({ timeout: 30_000 });
    // The queue list marks a paused queue: the page itself says so, not only its API.
    await board
      .getByText(/Paused/)
      .first()
      .waitFor({ timeout: 30_000 });
    await board.waitForLoadState('networkidle');
    await board.screenshot({ path: join(ARTIFACTS, 'bull-board.png'), fullPage: true });
    await board.close();

    // Resume; the run goes on to the end, still without a reload.
    await page.getByTestId('agent-resume-builder').click();
    await waitFor(async () => !(await builderPausedInBoard(page, base)), {
      timeoutMs: 15_000,
      what: 'agent.builder resumed',
    });
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 180_000 })
      .toBe('finished');
    const seen = await page.evaluate(() => (window as unknown as { seenPhases: string[] }).seenPhases);
    expect(seen).toEqual(expect.arrayContaining(['P2 Execution', 'P3 Review', 'P4 Iterate']));
    expect(seen.indexOf('P2 Execution')).toBeLessThan(seen.indexOf('P3 Review'));
    expect(navigations).toBe(0);

    // The live message stream shows the guide's message form.
    const messages = await page.getByTestId('msg').allTextContents();
    expect(messages.length).toBeGreaterThan(5);
    expect(messages.some((m) => m.startsWith('FROM: Director\nTO: ALL\nTYPE: DECISION'))).toBe(true);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'team-view.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'team-view.png'))).toBe(true);
    expect(existsSync(join(ARTIFACTS, 'bull-board.png'))).toBe(true);
  });
});
