// `nightshift preflight` reports the command sandbox: mechanism and limits, the fix when it cannot
// start, and a warning when TOOLS_SANDBOX=off (issue 17 §3).
import { loadConfig } from '@nightshift/config';
import { describe, expect, it } from 'vitest';
import { sandboxCheck } from './sandbox-check.js';

const host = { path: process.env.PATH };

describe('preflight: command sandbox', () => {
  it('available: passes and names the mechanism and every limit', async () => {
    const check = await sandboxCheck(loadConfig({}), host);
    expect(check).toMatchObject({ required: false, detail: expect.stringMatching(/^bubblewrap \(/) });
    expect(check.detail).toMatch(/CPU 300 s, address space 4 GiB, file size 1 GiB, processes 512/);
  });

  it('bubblewrap missing: a required check fails with the package to install', async () => {
    const check = await sandboxCheck(loadConfig({}), host, { bwrapPath: '/nonexistent/bwrap' });
    expect(check).toMatchObject({
      ok: false,
      required: true,
      fix: expect.stringContaining('apt-get install bubblewrap'),
    });
  });

  it('TOOLS_SANDBOX=off: flagged (advice, the user chose it) with the warning text', async () => {
    const check = await sandboxCheck(loadConfig({ TOOLS_SANDBOX: 'off' }), host);
    expect(check).toMatchObject({
      ok: false,
      required: false,
      detail: expect.stringContaining('UNCONFINED'),
    });
  });
});
