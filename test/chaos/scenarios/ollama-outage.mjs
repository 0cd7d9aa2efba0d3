// Scenario "Ollama outage": while requests flow, the fake Ollama goes down (connection refused)
// for N s, then answers 503 "server busy" for a while, then answers slowly. The gateway backs off
// (a bounded attempt rate, never a hot loop), every call completes after recovery, nothing is
// lost. With the Sentinel built: its circuit breaker on `llm` opens during the outage and closes
// afterwards, and the LLM-latency rule (set to 2 s here) raises a Level 3 alert during the slow
// part; the harness then plays the human and resolves it ("continue") so the paused queues resume.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAlertStore, QUEUE_NAMES } from '@nightshift/redis';
import { OLLAMA_BUSY_MESSAGE, waitFor } from '@nightshift/testkit';
import {
  answerCounts,
  answerTracker,
  diagnose,
  publishPaced,
  readWholeLog,
  requestBatch,
  sleep,
  waitForDrain,
} from '../lib/checks.mjs';
import { operator } from '../lib/operator.mjs';
import { SENTINEL_BUILT } from '../lib/procs.mjs';
import { check, checkCounts, checkStayedUp, finish, newResult } from '../lib/result.mjs';
import { addServices, createWorld, waitForStack } from '../lib/stack.mjs';

const LATENCY_RULE_SECONDS = 2;

export async function ollamaOutageScenario({ smoke, log }) {
  const started = Date.now();
  const size = smoke
    ? { requests: 60, downMs: 5000, busyMs: 5000, slowMs: 12_000, slowLatencyMs: 3000, timeoutMs: 200_000 }
    : {
        requests: 300,
        downMs: 30_000,
        busyMs: 15_000,
        slowMs: 30_000,
        slowLatencyMs: 3000,
        timeoutMs: 15 * 60_000,
      };
  const result = newResult(
    'ollama-outage',
    `fake Ollama down ${size.downMs / 1000} s, then 503 for ${size.busyMs / 1000} s, then ${size.slowLatencyMs / 1000} s per call for ${size.slowMs / 1000} s`,
  );
  const world = await createWorld({
    // Role timeouts far above the outage: the point is that calls wait and then complete.
    env: {
      ROLE_TIMEOUT_ARCHITECT: '900',
      ROLE_TIMEOUT_SCOUT: '900',
      ROLE_TIMEOUT_BUILDER: '900',
      ROLE_TIMEOUT_REFACTORER: '900',
      ROLE_TIMEOUT_INSPECTOR: '900',
    },
  });
  const op = operator(world);
  const resolved = op.resolved;
  try {
    const config = join(world.tmp, 'sentinel.config.json');
    writeFileSync(config, JSON.stringify({ detection: { llmLatencySeconds: LATENCY_RULE_SECONDS } }));
    addServices(world, {
      gateways: 1,
      agentConcurrency: 2,
      envFor: (slot) => (slot === 'sentinel' ? { NIGHTSHIFT_CONFIG: config } : {}),
    });
    await waitForStack(world);
    const tracker = answerTracker(world.bus);
    world.onCleanup(() => tracker.stop());
    const messages = requestBatch('run_chaos_ollama', size.requests, 'ollama-outage');
    const publishing = publishPaced(world.bus, tracker, messages, { maxOutstanding: 20 }).catch((error) =>
      result.notes.push(`publishing stopped: ${error.message}`),
    );
    await waitFor(() => tracker.answered >= 5, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'the first answers',
    });

    log(`  Ollama down for ${size.downMs / 1000} s`);
    await world.ollama.down();
    await sleep(size.downMs);
    await world.ollama.up();
    log(`  Ollama answers 503 for ${size.busyMs / 1000} s`);
    world.ollama.setScenario([
      { reply: { error: { status: 503, body: JSON.stringify({ error: OLLAMA_BUSY_MESSAGE }) } } },
    ]);
    const busyFrom = Date.now();
    await sleep(size.busyMs);
    const busyTo = Date.now();
    log(`  Ollama slow (${size.slowLatencyMs} ms per call) for ${size.slowMs / 1000} s`);
    world.ollama.setScenario([]);
    world.ollama.setLatency(size.slowLatencyMs);
    await sleep(size.slowMs);
    if (SENTINEL_BUILT) {
      // Slow until the latency rule has tripped: the circuit may still hold `llm` paused from the
      // outage (its cool-down is 30 s), and a paused queue makes no slow calls to measure.
      const alerts = createAlertStore(world.bus.redis, world.keys);
      await waitFor(
        async () => (await alerts.list({ limit: 100 })).some((a) => a.rule === 'resources.llm-latency'),
        {
          timeoutMs: 75_000,
          intervalMs: 1000,
          what: 'the LLM-latency alert',
        },
      ).catch((error) => result.notes.push(error.message));
    }
    world.ollama.setLatency(20);
    log('  Ollama healthy again');

    // Recovery: the harness resolves what the Sentinel raised (it is the human here) until done.
    await waitFor(
      async () => {
        await op.resolveAlerts();
        return messages.every((m) => tracker.has(m.id));
      },
      {
        timeoutMs: size.timeoutMs,
        intervalMs: 2000,
        what: `every request answered after recovery (${tracker.answered})`,
      },
    ).catch((error) => result.notes.push(error.message));
    await publishing;
    await waitForDrain(world, result, 90_000);

    const counts = await answerCounts(
      world.bus,
      messages.map((m) => m.id),
    );
    result.requests = messages.length;
    result.answered = counts.answered;
    checkCounts(result, { ...counts, limiterMax: world.ollama.maxConcurrent });
    checkStayedUp(result, world);

    // Backoff: attempts during the 503 window, per second. A retry loop without backoff makes
    // hundreds per second; with it, a handful per outstanding call over the window.
    const busyAttempts = world.ollama.records.filter(
      (r) => r.arrival >= busyFrom && r.arrival < busyTo,
    ).length;
    const rate = busyAttempts / ((busyTo - busyFrom) / 1000);
    result.details.backoff = { attemptsDuring503: busyAttempts, perSecond: Math.round(rate * 10) / 10 };
    check(
      result,
      'gateway backs off on 503 (< 50 attempts/s)',
      rate < 50,
      `${busyAttempts} attempts in ${(busyTo - busyFrom) / 1000} s`,
    );

    if (SENTINEL_BUILT) {
      const log_ = await readWholeLog(world.bus);
      const circuitNews = log_
        .map((e) => e.message)
        .filter(
          (m) => m?.from === 'sentinel' && /circuit (open|half-open|closed) for llm-gateway/.test(m.content),
        )
        .map((m) => /circuit (\S+)/.exec(m.content)?.[1]);
      result.details.circuit = circuitNews;
      check(
        result,
        'circuit breaker opened on llm during the outage',
        circuitNews.includes('open'),
        circuitNews.join(' → ') || 'no transition',
      );
      const finalCircuit = await waitFor(
        async () => {
          const raw = await world.bus.redis.hget(world.keys.custom('circuit'), QUEUE_NAMES.llm);
          const state = raw === null ? 'closed' : JSON.parse(raw).state;
          return state === 'closed' ? state : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1000, what: 'the llm circuit to close' },
      ).catch(() => 'not closed');
      check(result, 'circuit closed again after recovery', finalCircuit === 'closed', finalCircuit);
      const alerts = await createAlertStore(world.bus.redis, world.keys).list({ limit: 100 });
      const latency = alerts.filter((a) => a.rule === 'resources.llm-latency');
      result.details.alerts = alerts.map((a) => `${a.status} L${a.level} ${a.rule}: ${a.reason}`);
      check(
        result,
        'L3 alert from the LLM-latency rule',
        latency.some((a) => a.level >= 3),
        latency.map((a) => `L${a.level} ${a.reason}`).join('; ') || 'none raised',
      );
      result.details.resolvedByHarness = resolved;
    } else {
      result.notes.push('circuit breaker and L3 latency alert not checked: sentinel not built');
    }
    result.summary = `backoff ${result.details.backoff.perSecond} attempts/s under 503; ${
      SENTINEL_BUILT
        ? `circuit ${result.details.circuit?.join('→') || 'unchanged'}; alerts resolved by harness: ${resolved.length}`
        : 'sentinel not built: circuit/L3 not checked'
    }`;
    if (!result.checks.every((c) => c.ok)) {
      result.details.diagnosis = await diagnose(world);
      result.details.tails = world.stack.tails(15);
    }
  } finally {
    await world.cleanup();
  }
  return finish(result, started);
}
