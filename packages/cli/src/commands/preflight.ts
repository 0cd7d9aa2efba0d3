// `nightshift preflight`: the guide's pre-flight checklist (§8) as checks, ✓/✗ with the fix;
// exit 1 when a required check fails; `--json` for scripts.
import { loadConfig } from '@nightshift/config';
import type { Command } from 'commander';
import type { CliDeps } from '../deps.js';
import { runPreflight } from '../preflight/checks.js';

export function registerPreflight(program: Command, deps: CliDeps): void {
  program
    .command('preflight')
    .description('check Redis, Ollama, the model, the Anthropic key, disk and memory dir before a night')
    .option('--workspace <dir>', 'also check that this workspace is a git repository')
    .option('--production', 'require Redis AOF persistence', false)
    .option('--json', 'machine-readable output', false)
    .action(async (opts: { workspace?: string; production: boolean; json: boolean }) => {
      const config = loadConfig(deps.env ?? {});
      const results = await runPreflight(config, {
        ...(opts.workspace ? { workspace: opts.workspace } : {}),
        production: opts.production,
        host: { path: deps.env?.PATH, lang: deps.env?.LANG },
      });
      const failed = results.filter((r) => r.required && !r.ok);
      if (opts.json) {
        deps.stdout(`${JSON.stringify({ ok: failed.length === 0, checks: results })}\n`);
      } else {
        for (const r of results) {
          const mark = r.skipped ? '–' : r.ok ? '✓' : r.required ? '✗' : '!';
          deps.stdout(`${mark} ${r.name}: ${r.detail}\n`);
          if (!r.ok && r.fix) deps.stdout(`    fix: ${r.fix}\n`);
        }
        deps.stdout(
          failed.length === 0
            ? 'pre-flight: ready for the night\n'
            : `pre-flight: ${failed.length} required check(s) failed\n`,
        );
      }
      if (failed.length > 0)
        throw Object.assign(new Error(`${failed.length} required pre-flight check(s) failed`), {
          exitCode: 1,
        });
    });
}
