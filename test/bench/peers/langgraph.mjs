// The peer side of the side-by-side: the same multi-agent job in LangGraph.js. A supervisor node
// fans tasks out (Send) to five worker nodes, each asking ChatOllama once per task. Written to
// be what a user would write: no retries added, no limiter beyond LangGraph's own maxConcurrency.
//
// Run as a process: env BENCH_OLLAMA (URL), BENCH_CALLS, BENCH_OFFSET (first task number),
// BENCH_MAX_CONCURRENCY (empty = unbounded), BENCH_OUT (JSON file). Prints READY, starts on
// "GO" from stdin, prints DONE.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import { ChatOllama } from '@langchain/ollama';

export const WORKERS = ['architect', 'scout', 'builder', 'refactorer', 'inspector'];

const JobState = Annotation.Root({
  /** Task numbers the supervisor hands out. */
  tasks: Annotation(),
  /** One entry per finished task, appended by the workers in parallel. */
  results: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** The graph: START → supervisor → Send(worker, task) × N → END. */
export function buildJobGraph(model) {
  const graph = new StateGraph(JobState).addNode('supervisor', () => ({}));
  for (const worker of WORKERS) {
    graph.addNode(worker, async ({ task }) => {
      try {
        // The fake Ollama reads the role from a `ROLE:` line, as Nightshift's personas carry one.
        const reply = await model.invoke([
          new SystemMessage(`You are the ${worker} of a small team.\nROLE: ${worker}`),
          new HumanMessage(`task-${task}`),
        ]);
        return { results: [{ task, worker, ok: true, chars: String(reply.content).length }] };
      } catch (error) {
        // Recorded as a failed task rather than thrown: a throw would abort the whole superstep
        // (every sibling task), which would be harsher on LangGraph than this benchmark means to be.
        return {
          results: [
            { task, worker, ok: false, error: error instanceof Error ? error.message : String(error) },
          ],
        };
      }
    });
    graph.addEdge(worker, END);
  }
  graph.addEdge(START, 'supervisor');
  graph.addConditionalEdges(
    'supervisor',
    (state) => state.tasks.map((task) => new Send(WORKERS[task % WORKERS.length], { task })),
    WORKERS,
  );
  return graph.compile();
}

/**
 * Builds the model and graph for `calls` tasks numbered from `offset` (before the clock starts);
 * `run()` executes them. `maxConcurrency` undefined = LangGraph's default: all tasks at once.
 */
export function prepareJob({ ollamaUrl, calls, offset = 0, maxConcurrency }) {
  const model = new ChatOllama({ baseUrl: ollamaUrl, model: 'qwen3:32b' });
  const app = buildJobGraph(model);
  const tasks = Array.from({ length: calls }, (_, i) => offset + i);
  return {
    async run() {
      const t0 = Date.now();
      const state = await app.invoke(
        { tasks },
        { ...(maxConcurrency === undefined ? {} : { maxConcurrency }), recursionLimit: 10 },
      );
      const t1 = Date.now();
      const failed = state.results.filter((r) => !r.ok);
      return {
        t0,
        t1,
        tasks: calls,
        ok: state.results.length - failed.length,
        failed: failed.length,
        errors: [...new Set(failed.map((r) => r.error))].slice(0, 3),
      };
    },
  };
}

async function mainAsProcess() {
  const env = process.env;
  const max = env.BENCH_MAX_CONCURRENCY;
  const options = {
    ollamaUrl: env.BENCH_OLLAMA ?? 'http://127.0.0.1:11434',
    calls: Number(env.BENCH_CALLS ?? '200'),
    offset: Number(env.BENCH_OFFSET ?? '0'),
    ...(max === undefined || max === '' ? {} : { maxConcurrency: Number(max) }),
  };
  const job = prepareJob(options);
  const lines = createInterface({ input: process.stdin });
  process.stdout.write('READY\n');
  await new Promise((resolve) => lines.on('line', (line) => line.trim() === 'GO' && resolve()));
  const result = await job.run();
  writeFileSync(env.BENCH_OUT ?? '/tmp/bench-langgraph.json', JSON.stringify(result));
  process.stdout.write('DONE\n');
  lines.close();
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  mainAsProcess().catch((error) => {
    process.stderr.write(`langgraph peer failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
