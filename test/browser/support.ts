// Shared by the browser suites: Debian's Chromium through playwright-core (never a downloaded
// browser), headless, with no background traffic; screenshots go to test-artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import {
  type DashboardStack,
  type DashboardStackOptions,
  startDashboardStack,
} from '../e2e/dashboard-support.js';
import { ROOT } from '../e2e/support/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Launches Chromium (and makes test-artifacts/); fails with how to install it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    // Never let playwright download a browser: this machine (and CI) installs Debian's.
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` ` +
        '(CI does this when test/browser exists), or point CHROMIUM_PATH at a Chromium binary.',
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** For a suite: Chromium and the dashboard stack, started before its tests and stopped after them. */
export function browserStack(options: DashboardStackOptions): {
  readonly browser: Browser;
  readonly stack: DashboardStack;
} {
  let browser: Browser | undefined;
  let stack: DashboardStack | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startDashboardStack(options);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started: use it inside a test`);
    return value;
  };
  return {
    get browser() {
      return started(browser, 'the browser');
    },
    get stack() {
      return started(stack, 'the dashboard stack');
    },
  };
}
