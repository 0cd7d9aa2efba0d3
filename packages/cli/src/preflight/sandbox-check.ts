// Pre-flight check of the command sandbox (issue 17 §3): starts `true` in it once and reports the
// mechanism and limits, or fails a required check with the same fix run_command would give.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, UNCONFINED_WARNING } from '@nightshift/config';
import { type HostEnv, probeSandbox, type SandboxReport, type SandboxSettings } from '@nightshift/tools';
import type { CheckResult } from './result.js';

const NAME = 'command sandbox (bubblewrap)';

function size(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** "CPU 300 s, address space 4 GiB, …": what every confined command is held to. */
export function describeLimits(limits: SandboxReport['limits']): string {
  const processes =
    limits.processLimit === 'none'
      ? `processes ${limits.processes} NOT ENFORCED (root without a writable pids cgroup)`
      : `processes ${limits.processes} (${limits.processLimit})`;
  return (
    `CPU ${limits.cpuSeconds} s, address space ${size(limits.addressSpaceBytes)}, ` +
    `file size ${size(limits.fileSizeBytes)}, ${processes}, /tmp and HOME ${size(limits.tmpfsBytes)} each`
  );
}

/** `overrides` (tests): e.g. a bwrap path that does not exist, to see the failing check. */
export async function sandboxCheck(
  config: Config,
  host: HostEnv | undefined,
  overrides: SandboxSettings = {},
): Promise<CheckResult> {
  const workspace = mkdtempSync(join(tmpdir(), 'nightshift-preflight-'));
  try {
    const report = await probeSandbox({
      workspace,
      host,
      settings: { mode: config.tools.sandbox, ...overrides },
      isRoot: process.getuid?.() === 0,
    });
    if (report.mode === 'off')
      return {
        name: NAME,
        ok: false,
        required: false,
        detail: UNCONFINED_WARNING,
        fix: 'remove TOOLS_SANDBOX=off (tools.sandbox: "off") to run commands in the sandbox',
      };
    if (!report.available)
      return {
        name: NAME,
        ok: false,
        required: true,
        detail: report.reason ?? 'unavailable',
        ...(report.fix ? { fix: report.fix } : {}),
      };
    return {
      name: NAME,
      ok: report.limits.processLimit !== 'none',
      // Missing process counting is advice, not a refusal: every other fence still holds.
      required: false,
      detail:
        `${report.mechanism}: own pid, net, user, ipc namespaces; only the workspace writable; ` +
        `limits: ${describeLimits(report.limits)}`,
      fix: 'run the agents as a non-root user (RLIMIT_NPROC then counts), or give them a writable pids cgroup',
    };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}
