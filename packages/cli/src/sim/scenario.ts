// The SIMULATED model of `nightshift up --sim` and the demo: scripted replies for each role,
// served by the fake Ollama and fake Anthropic servers behind the real clients. No model is
// involved; every reply below is written here and labelled as simulated where it is shown.
import type { AnthropicRule, OllamaRequestInfo, OllamaRule } from '@nightshift/testkit';

export const SIM_LABEL = 'SIMULATED MODEL';

/** What the simulated Builder writes: the fix of the sample workspace's off-by-one. */
export const FIXED_SUM = `// Adds up a list of numbers.
export function sum(values) {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}
`;

function toolResults(req: OllamaRequestInfo): string[] {
  return req.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
}

function offers(req: OllamaRequestInfo, tool: string): boolean {
  return req.tools.some((t) => JSON.stringify(t).includes(`"${tool}"`));
}

const reply = (content: string) => ({ content: `[${SIM_LABEL}] ${content}` });

/** Review-debate votes (guide §3): revise while a critical finding is open, else finish. */
function voteRule(): OllamaRule {
  return {
    match: { contains: 'Vote on the review' },
    reply: (req: OllamaRequestInfo) => {
      const critical = /\[critical\]/.test(req.text);
      return {
        content: JSON.stringify({
          option: critical ? 'revise' : 'finish',
          confidence: 0.8,
          rationale: `${SIM_LABEL}: ${critical ? 'a critical finding is open' : 'the review is clean'}`,
        }),
      };
    },
  };
}

export function workerScenario(): OllamaRule[] {
  return [
    voteRule(),
    {
      match: { role: 'architect' },
      // A real qwen3's habit (issue 20): reasoning first, inline as <think>…</think> when the
      // request does not set `think`, in message.thinking when it does. Never part of the answer.
      reply: {
        ...reply(
          'Design: the bug is in src/sum.js (the loop starts at index 1). Component: sum(). Risk: low; the test in test/sum.test.js covers it.\n{"components": ["sum() in src/sum.js"], "risks": ["low: test/sum.test.js covers it"]}',
        ),
        thinking: 'The failing test sums [1, 2, 3]; the loop skips index 0. Not a {"components"} design yet.',
      },
    },
    {
      match: { role: 'scout' },
      reply: reply(
        'Research: the workspace runs its tests with `npm test` (node --test); no dependencies to install.',
      ),
    },
    {
      match: { role: 'builder' },
      reply: (req: OllamaRequestInfo) => {
        if (offers(req, 'write_file') && toolResults(req).length === 0) {
          // Written as text (<tool_call>{…}</tool_call> in the content, no native tool_calls), as
          // Qwen/Hermes templates do when the server's parser misses it (issue 20): run all the same.
          return {
            content: '',
            toolCalls: [{ name: 'write_file', arguments: { path: 'src/sum.js', content: FIXED_SUM } }],
            toolCallsAsText: true,
          };
        }
        return reply('Changed src/sum.js: the loop now starts at index 0, so the first number is counted.');
      },
    },
    {
      match: { role: 'refactorer' },
      reply: reply('Proposal: no refactoring needed; the function is small and clear. Behaviour unchanged.'),
    },
    {
      match: { role: 'inspector' },
      reply: (req: OllamaRequestInfo) => {
        const results = toolResults(req);
        if (offers(req, 'run_command') && results.length === 0) {
          return { content: '', toolCalls: [{ name: 'run_command', arguments: { argv: ['npm', 'test'] } }] };
        }
        const passed = results.some((r) => /exit code 0\b/.test(r));
        const findings = passed
          ? []
          : [
              {
                severity: 'critical',
                file: 'src/sum.js',
                description: 'npm test fails: sum() does not add every number',
              },
            ];
        return reply(`Ran npm test: ${passed ? 'it passes' : 'it FAILS'}.\n${JSON.stringify({ findings })}`);
      },
    },
    { match: { role: 'scribe' }, reply: reply('Summary: the team is working on the sum() fix.') },
    { match: { role: 'director' }, reply: reply('(fallback) Goal: make npm test pass.') },
  ];
}

/** The Director on (fake) Claude: finishes when the review found no critical issue, else revises. */
export function directorScenario(): AnthropicRule[] {
  return [
    {
      match: { contains: 'Frame the goal' },
      reply: reply('Goal: make `npm test` pass by fixing sum(); keep its API.'),
    },
    {
      match: { contains: 'Verify the review' },
      reply: (req) => {
        const critical = /\[critical\]/.test(req.text);
        const decision = critical ? 'revise' : 'finish';
        const rationale = critical
          ? `${SIM_LABEL}: the Inspector reports a critical failure; revise.`
          : `${SIM_LABEL}: the Inspector's run of npm test passes; finish.`;
        return { content: JSON.stringify({ decision, rationale }) };
      },
    },
  ];
}
