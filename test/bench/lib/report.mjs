// The printed half of the result: one markdown table per section, from the JSON the run wrote.

const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');
const num = (v, digits = 0) =>
  Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a';
const ms = (v) => num(v, 2);
const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');

function table(head, rows) {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function failed(title, section) {
  return `### ${title}\n\nFAILED: ${section.error}`;
}

function dispatch(d) {
  const n = d.nightshift;
  const b = d.bullmq;
  return `### 1. Dispatch — ${num(d.requests)} REQUESTs, instant model (${d.outstanding} in flight, worker concurrency ${d.concurrency})\n\n${table(
    [
      '',
      'Nightshift (bus → agent → RESPONSE)',
      'raw BullMQ (add → worker → completed)',
      'ratio (target ≥ 0.5×)',
    ],
    [
      ['jobs/s', num(n.jobsPerSec), num(b.jobsPerSec), x(d.ratio)],
      [
        'p50 / p99 latency under load, ms',
        `${ms(n.underLoad.p50Ms)} / ${ms(n.underLoad.p99Ms)}`,
        `${ms(b.underLoad.p50Ms)} / ${ms(b.underLoad.p99Ms)}`,
        '',
      ],
      [
        `p50 / p99 one at a time (${num(d.serialRequests)}), ms — target ≤ 2 / ≤ 10`,
        `${ms(n.oneAtATime.p50Ms)} / ${ms(n.oneAtATime.p99Ms)}`,
        `${ms(b.oneAtATime.p50Ms)} / ${ms(b.oneAtATime.p99Ms)}`,
        '',
      ],
      ['peak RSS of the worker process, MB', num(d.rssPeakMb.agent, 1), num(d.rssPeakMb.bullmqWorker, 1), ''],
      ...commandRows(d.commands),
    ],
  )}${commandBreakdown(d.commands)}`;
}

/** Round trips and script commands per request (MONITOR counts, background subtracted). */
function commandRows(c) {
  if (c === undefined) return [];
  return [
    [
      `Redis round trips / commands inside scripts per request (${num(c.nightshift.requests)} counted)`,
      `${num(c.nightshift.roundTrips, 1)} / ${num(c.nightshift.scriptCommands, 1)}`,
      `${num(c.bullmq.roundTrips, 1)} / ${num(c.bullmq.scriptCommands, 1)}`,
      x(c.nightshift.roundTrips / c.bullmq.roundTrips),
    ],
  ];
}

/** `{ name: count }` as "name n, …", largest first. */
function byKeyLine(counts) {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${num(n, 2)}`)
    .join(', ');
}

function commandBreakdown(c) {
  if (c === undefined) return '';
  const line = byKeyLine;
  return `\n\nRound trips per request by command — Nightshift: ${line(c.nightshift.byCommand)}; raw BullMQ: ${line(c.bullmq.byCommand)}.`;
}

function bus(b) {
  return `### 2. Bus — ${num(b.messages)} STATUS messages, publish window ${b.publishWindow}\n\n${table(
    ['', 'createBus publish + consume', 'raw XADD / XREADGROUP + XACK', 'ratio'],
    [
      ['messages/s, publish → consumed', num(b.nightshift.msgsPerSec), num(b.raw.msgsPerSec), x(b.ratio)],
      [
        'publishes/s',
        num(b.nightshift.publishPerSec),
        num(b.raw.publishPerSec),
        x(b.nightshift.publishPerSec / b.raw.publishPerSec),
      ],
    ],
  )}`;
}

function limiter(l) {
  return `### 3. Limiter — ${num(l.calls)} calls of ${l.latencyMs} ms, ${l.callers} caller processes, ${l.gateways} gateway process(es), OLLAMA_NUM_PARALLEL=${l.numParallel}\n\n${table(
    ['figure', 'measured', 'target'],
    [
      ['slot utilisation', pct(l.slotUtilisation), '≥ 97%'],
      ...(l.bullmqGlobal === undefined
        ? []
        : [
            [
              `baseline: raw BullMQ, setGlobalConcurrency(${l.numParallel}), ${l.bullmqGlobal.workers} worker processes — slot utilisation / hand-off gap p50, p99 ms / peak concurrency`,
              `${pct(l.bullmqGlobal.slotUtilisation)} / ${ms(l.bullmqGlobal.slotHandOffGapMs.p50Ms)}, ${ms(l.bullmqGlobal.slotHandOffGapMs.p99Ms)} / ${l.bullmqGlobal.maxConcurrency}`,
              '',
            ],
            ['Nightshift slot utilisation ÷ baseline', x(l.utilisationVsBullmq), '≥ 1.00×'],
          ]),
      [
        'max concurrency at Ollama (records) / slots granted',
        `${l.maxConcurrency} / ${l.fakeMaxConcurrent}`,
        `= ${l.numParallel}`,
      ],
      [
        'priority inversions / competing pairs (strict)',
        `${num(l.inversions)} / ${num(l.competingPairs)}`,
        '0',
      ],
      [
        `priority inversions / competing pairs (> ${l.inversionMarginMs} ms)`,
        `${num(l.inversionsBeyondMargin)} / ${num(l.competingPairsBeyondMargin)}`,
        '0',
      ],
      [
        '… the same pairs judged at dispatch from the queue (strict)',
        `${num(l.inversionsAtDispatch)} / ${num(l.competingPairsAtDispatch)}`,
        '0',
      ],
      [
        'calls waiting at the limiter: mean (share of samples with none)',
        `${num(l.queueDepth.mean, 1)} (${pct(l.queueDepth.zeroShare)})`,
        '> 0',
      ],
      [
        'slot hand-off gap p50 / p99, ms',
        `${ms(l.slotHandOffGapMs.p50Ms)} / ${ms(l.slotHandOffGapMs.p99Ms)}`,
        '',
      ],
      [
        'makespan vs lower bound (calls × latency / slots), s',
        `${num(l.makespanSec, 2)} vs ${num(l.lowerBoundSec, 2)}`,
        '',
      ],
      [
        'answered / failed / HTTP 503 / LlmQueueFull retries',
        `${num(l.answered)} / ${l.failed} / ${l.rejected503} / ${l.queueFullRetries}`,
        'all / 0 / 0 / –',
      ],
      ...(l.commands === undefined
        ? []
        : [
            [
              `Redis round trips / commands inside scripts per call, one at a time (${num(l.commands.requests)} counted)`,
              `${num(l.commands.roundTrips, 1)} / ${num(l.commands.scriptCommands, 1)}`,
              '',
            ],
          ]),
    ],
  )}${l.commands === undefined ? '' : `\n\nRound trips per LLM call by key — ${byKeyLine(l.commands.byKey)}.`}`;
}

function fullRun(f) {
  return `### 4. Full scripted four-phase run (phases ${f.phases.join(' → ')}, ${f.status})\n\n${table(
    [
      'makespan, s',
      'critical-path lower bound, s',
      'ratio (target ≤ 1.05×)',
      'model calls (Ollama / Anthropic)',
      'latency per call (Ollama / builder / Anthropic), ms',
    ],
    [
      [
        num(f.makespanSec, 2),
        num(f.lowerBoundSec, 2),
        x(f.ratio),
        `${f.modelCalls.ollama} / ${f.modelCalls.anthropic}`,
        `${f.ollamaLatencyMs} / ${f.builderLatencyMs} / ${f.anthropicLatencyMs}`,
      ],
    ],
  )}`;
}

function memory(m) {
  const rows = Object.keys(m.idleMb).map((name) => [
    name,
    num(m.idleMb[name], 1),
    num(m.fullRunPeakMb[name], 1),
    `${num(m.startup.perServiceMs[name])} (${m.startup.via[name]})`,
  ]);
  rows.push([
    '**whole stack**',
    `**${num(m.idleStackMb, 1)}**`,
    `**${num(m.fullRunPeakStackMb, 1)}**`,
    `**${num(m.startup.allHealthyMs)}** (all healthy)`,
  ]);
  const load = m.underLoadMb;
  return `### 5. Memory (VmRSS) and startup — targets ≤ ${m.targets.perWorkerMb} MB per worker, stack ≤ ${m.targets.stackMb} MB\n\n${table(
    ['process', 'idle, MB', 'peak during the full run, MB', 'ready after, ms (signal)'],
    rows,
  )}\n\nUnder heavier load: one agent during dispatch ${num(load.agentDispatch, 1)} MB; busiest gateway during the limiter ${num(load.gatewayLimiter, 1)} MB.`;
}

function peers(p) {
  const rows = p.variants.map((v) => [
    v.name,
    `${num(v.makespanSec, 2)} (${x(v.ratioToBound)})`,
    pct(v.slotUtilisation),
    num(v.rejected503),
    num(v.failedTasks),
    `${v.maxAtOllama} / ${v.servedAtOnce}`,
    v.limitHeld ? 'yes' : '**no**',
    `${ms(v.slotHandOffGapMs?.p50Ms)} / ${ms(v.slotHandOffGapMs?.p99Ms)}`,
  ]);
  return `### 6. Peer side by side — ${p.calls} calls of ${p.latencyMs} ms, 5 workers; fake Ollama ${p.ollama.numParallel} slots, queue ${p.ollama.maxQueue}; lower bound ${num(p.lowerBoundSec, 2)} s\n\n${table(
    [
      'variant',
      'makespan, s (× bound)',
      'slot use',
      'HTTP 503',
      'failed tasks',
      'max calls at Ollama / served at once',
      '2-call limit held',
      'slot hand-off gap p50 / p99, ms',
    ],
    rows,
  )}${waitedAtLimiter(p.variants)}`;
}

function waitedAtLimiter(variants) {
  const ns = variants.find((v) => v.maxWaitingAtLimiter !== undefined);
  return ns
    ? `\n\nNightshift: up to ${num(ns.maxWaitingAtLimiter)} calls waited on queue \`llm\` at once, in priority order, instead of at Ollama.`
    : '';
}

function sandbox(s) {
  const rows = s.commands.map((c) => [
    c.name,
    num(c.runs),
    `${ms(c.unconfined.p50Ms)} / ${ms(c.unconfined.p99Ms)}`,
    `${ms(c.sandboxed.p50Ms)} / ${ms(c.sandboxed.p99Ms)}`,
    `+${ms(c.overheadP50Ms)} / +${ms(c.overheadP99Ms)}`,
  ]);
  return `### 7. Command sandbox — ${s.mechanism}, each command run sandboxed and unconfined in turn\n\n${table(
    [
      'command',
      'runs (each way)',
      'unconfined p50 / p99, ms',
      'sandboxed p50 / p99, ms',
      'overhead p50 / p99, ms',
    ],
    rows,
  )}`;
}

const RENDER = [
  ['dispatch', '1. Dispatch', dispatch],
  ['bus', '2. Bus', bus],
  ['limiter', '3. Limiter', limiter],
  ['fullRun', '4. Full run', fullRun],
  ['memory', '5. Memory', memory],
  ['peers', '6. Peers', peers],
  ['sandbox', '7. Command sandbox', sandbox],
];

export function renderTable(result) {
  const m = result.meta;
  const head = `## Nightshift benchmark — ${m.date} (${m.mode}), ${m.machine.nproc} CPUs (${m.machine.cpu}), ${m.machine.memTotalGb} GB RAM, load ${m.machine.loadavg.split(' ').slice(0, 3).join(' ')}, Node ${m.machine.node}, ${m.durationSec} s`;
  const parts = [head];
  for (const [key, title, render] of RENDER) {
    const section = result[key];
    if (section === undefined) continue;
    parts.push(section.error ? failed(title, section) : render(section));
  }
  const load = Object.entries(m.loadAfter ?? {}).map(([name, l]) => `${name} ${l}`);
  if (load.length > 0) parts.push(`Load average (1/5/15 min) after each section: ${load.join('; ')}.`);
  if ((m.sigkilled ?? []).length > 0)
    parts.push(`Did not exit within the grace time after SIGTERM (killed): ${m.sigkilled.join(', ')}.`);
  return parts.join('\n\n');
}
