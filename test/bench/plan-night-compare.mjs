// Issue 24: a recorded night (test-artifacts/plan-eta-night.json, written by test/e2e/plan-eta.test.ts)
// beside its forecast, re-made from the same position and history: each run's p50/p90 against its
// real end, and with STEPS=<seed> one simulated night step by step beside the recorded steps.
//   node test/bench/plan-night-compare.mjs [night.json]    H=<history runs, 2>  LS=<PLAN_LOAD_STRETCH, 0.08>
// The pick-up of a step in flight is taken from its role's first call after the REQUEST (the
// recorded forecast used the agent job's processedOn), so a re-made p50 can differ slightly.
import { readFileSync } from 'node:fs';
import {
  buildProfile,
  drawPlans,
  fold,
  forecast,
  progressOf,
  sampleRun,
  seededRng,
  simulateRuns,
} from '@nightshift/core';

const d = JSON.parse(readFileSync(process.argv[2] ?? 'test-artifacts/plan-eta-night.json', 'utf8'));
const created = (id) => Date.parse(d.runs[id].events[0].at);
const night = [...d.night].sort((a, b) => created(a) - created(b));
const madeAt = Date.parse(JSON.parse(d.runs[night[0]].forecast).madeAt);
const hist = Object.keys(d.runs).filter(
  (id) => !night.includes(id) && sampleRun(d.runs[id].events, d.runs[id].calls),
);
const histIds = hist.slice(-Number(process.env.H ?? 2));
const profile = buildProfile(histIds.map((id) => d.runs[id]));
console.log(
  'history',
  histIds,
  profile.runs.map((r) => r.durationMs),
);
const queued = night.map((id) => {
  const r = d.runs[id];
  const events = r.events.filter((e) => Date.parse(e.at) <= madeAt);
  const p = progressOf(fold(events), madeAt);
  // Pick-up of a step in flight: its role's first call after the REQUEST (the agent's prompt time aside).
  for (const f of p?.inFlight ?? []) {
    const req = events.findLast((e) => e.type === 'step.requested' && e.step === f.step);
    const first = r.calls.find((c) => c.enqueuedAt >= Date.parse(req.at) && c.role === req.role);
    f.elapsedMs = first && first.enqueuedAt <= madeAt ? madeAt - first.enqueuedAt + 20 : 0;
  }
  return p ? { id, progress: p } : { id };
});
console.log(
  JSON.stringify(queued.map((q) => [q.id.slice(-5), q.progress?.done.length, q.progress?.inFlight])),
);
const f = forecast({
  profile,
  runs: queued,
  agents: {},
  numParallel: 2,
  samples: 200,
  seed: 1,
  whatIf: false,
  loadStretch: Number(process.env.LS ?? 0.08),
});
const actualEnd = (id) => Date.parse(d.runs[id].events.find((e) => e.type === 'run.finished').at) - madeAt;
let sum = 0;
for (const r of f.runs) {
  const a = actualEnd(r.id);
  const rec = JSON.parse(d.runs[r.id].forecast);
  const err = (r.p50Ms - a) / a;
  sum += Math.abs(err);
  console.log(
    r.id.slice(-5),
    'p50',
    Math.round(r.p50Ms),
    'p90',
    Math.round(r.p90Ms),
    'actual',
    a,
    'err',
    (err * 100).toFixed(1),
    '% | recorded p50',
    Date.parse(rec.p50At) - madeAt,
  );
}
console.log('mean |err|', ((sum / f.runs.length) * 100).toFixed(1), '%');
if (process.env.STEPS) {
  const trace = [];
  const res = simulateRuns({
    runs: drawPlans(profile, queued, seededRng(Number(process.env.STEPS))),
    agents: {},
    numParallel: 2,
    trace: (e) => trace.push(e),
  });
  const fmt = (x) => (x === undefined ? '     -' : String(Math.round(x)).padStart(6));
  for (const id of night) {
    const act = {};
    const at = (step) => {
      act[step] ??= {};
      return act[step];
    };
    for (const e of d.runs[id].events) {
      const t = Date.parse(e.at) - madeAt;
      if (e.type === 'step.requested') at(e.step).req = t;
      if (e.type === 'step.completed' && e.step !== 'verify') at(e.step).end = t;
      if (e.type === 'decision.made' && e.step === 'verify') at('verify').end = t;
    }
    console.log(`\n${id} sim end ${fmt(res.ends[id])} actual ${fmt(actualEnd(id))}`);
    for (const t of trace.filter((e) => e.kind === 'step' && e.run === id)) {
      const x = act[t.step] ?? {};
      console.log(
        `${t.step.padEnd(14)} sim ready ${fmt(t.readyAt)} taken ${fmt(t.takenAt)} end ${fmt(t.endAt)} | act req ${fmt(x.req)} end ${fmt(x.end)}`,
      );
    }
  }
}
