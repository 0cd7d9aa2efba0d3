// The markdown table printed at the end of a chaos run (and pasted into docs/reliability.md).
const cell = (v) => (v === null || v === undefined ? '—' : String(v));

export function renderTable(report) {
  const m = report.machine;
  const lines = [
    `Chaos ${report.mode} run, ${report.date} — ${m.nproc} cores (${m.cpu}), ${m.memTotalGb} GB, load ${m.loadavg.split(' ').slice(0, 3).join(' ')}, node ${m.node}`,
    '',
    '| scenario | result | requests | answered | lost | duplicated | limiter max (limit) | time | notes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of report.scenarios) {
    const failed = r.checks.filter((c) => !c.ok).map((c) => `✗ ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
    const notes = [...failed, ...(r.summary ? [r.summary] : [])].join('; ').replace(/\|/g, '/');
    lines.push(
      `| ${r.scenario} | ${r.ok ? 'PASS' : 'FAIL'} | ${cell(r.requests)}${r.unit ? ` ${r.unit}` : ''} | ${cell(r.answered)} | ${cell(r.lost)} | ${cell(r.duplicated)} | ${cell(r.limiterMax)} (${r.limit}) | ${(r.durationMs / 1000).toFixed(0)} s | ${notes} |`,
    );
  }
  lines.push(
    '',
    `${report.scenarios.filter((r) => r.ok).length} passed, ${report.scenarios.filter((r) => !r.ok).length} failed`,
  );
  return lines.join('\n');
}
