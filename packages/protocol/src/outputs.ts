// The structured outputs a REQUEST can ask for (issue 5, "each role's output has a schema"):
// the Architect's design, the Builder's/Refactorer's changes, the Inspector's findings. A REQUEST
// names the one it wants in `output`; the answering agent checks the model's reply against it,
// asks once more with the error, and raises an ALERT if the second reply fails too. The Director
// reads the same schemas back from the RESPONSE.
import { z } from 'zod';
import { describeProblems } from './errors.js';
import { problemsFrom } from './schema-errors.js';

export const OUTPUT_KINDS = ['design', 'changes', 'findings'] as const;
export const OutputKindSchema = z.enum(OUTPUT_KINDS);
export type OutputKind = z.infer<typeof OutputKindSchema>;

export const SEVERITY_LEVELS = ['critical', 'major', 'minor'] as const;

/** A component or a risk: a plain string, or an object naming it (models write both). */
const Named = z.union([
  z.string().trim().min(1, 'a non-empty string'),
  z.looseObject({ name: z.string().trim().min(1, 'a non-empty name') }),
  z.looseObject({ description: z.string().trim().min(1, 'a non-empty description') }),
]);

export const DesignOutputSchema = z.object({
  components: z.array(Named, { error: 'a list of the components to touch' }).min(1, 'at least one component'),
  risks: z.array(Named, { error: 'a list of risks (empty if none)' }),
});

export const FindingOutputSchema = z.object({
  severity: z.preprocess(
    (v) => (typeof v === 'string' ? v.toLowerCase() : v),
    z.enum(SEVERITY_LEVELS, { error: `one of ${SEVERITY_LEVELS.join(', ')}` }),
  ),
  file: z.string().optional(),
  description: z.string().trim().min(1, 'a non-empty description'),
});

export const FindingsOutputSchema = z.object({
  findings: z.array(FindingOutputSchema, { error: 'a list of findings (empty if none)' }),
});

/**
 * The Builder's and Refactorer's report. `files` comes from what the agent's tools really wrote
 * when it has a tool session (never only from what the model claims); `summary` from the reply.
 */
export const ChangesOutputSchema = z.object({
  summary: z.string().trim().min(1, 'a non-empty summary of what was changed (or why nothing was)'),
  files: z.array(z.string().min(1)),
});

export type DesignOutput = z.infer<typeof DesignOutputSchema>;
export type FindingsOutput = z.infer<typeof FindingsOutputSchema>;
export type ChangesOutput = z.infer<typeof ChangesOutputSchema>;

/** What the model is told to write, per kind (goes into the REQUEST's Expected Response). */
export const OUTPUT_INSTRUCTIONS: Readonly<Record<OutputKind, string>> = {
  design:
    'End the Content with one JSON object: {"components": ["…"], "risks": ["…"]} — at least one component; risks may be an empty list.',
  changes:
    'Say what you changed and why (or why you changed nothing) in the Content; the files your tools wrote are listed for you.',
  findings:
    'End the Content with one JSON object: {"findings": [{"severity": "critical|major|minor", "file": "…", "description": "…"}]} — an empty list if there are none.',
};

export type OutputCheck<T> = { ok: true; value: T } | { ok: false; error: string };

/** Balanced `{…}` spans of `text`, outermost only, in order of appearance (strings respected). */
export function jsonCandidates(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"' && depth > 0) inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' && depth > 0) {
      depth--;
      if (depth === 0 && start >= 0) out.push(text.slice(start, i + 1));
    }
  }
  return out;
}

/**
 * The last JSON object in `text` that satisfies `schema`, or the reason none does (the error of
 * the last candidate that parsed as JSON, naming the bad field).
 */
export function lastJsonMatching<T>(text: string, schema: z.ZodType<T>, what: string): OutputCheck<T> {
  let error = `no JSON object ${what} in the reply`;
  for (const candidate of jsonCandidates(text).reverse()) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch (e) {
      error = `invalid JSON: ${(e as Error).message}`;
      continue;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return { ok: true, value: parsed.data };
    error = describeProblems(problemsFrom(parsed.error));
  }
  return { ok: false, error };
}

/** Checks a reply's Content against a design or findings output (changes: see ChangesOutputSchema). */
export function readOutput(kind: 'design', text: string): OutputCheck<DesignOutput>;
export function readOutput(kind: 'findings', text: string): OutputCheck<FindingsOutput>;
export function readOutput(
  kind: 'design' | 'findings',
  text: string,
): OutputCheck<DesignOutput | FindingsOutput>;
export function readOutput(
  kind: 'design' | 'findings',
  text: string,
): OutputCheck<DesignOutput | FindingsOutput> {
  return kind === 'design'
    ? lastJsonMatching(text, DesignOutputSchema, '{"components": […], "risks": […]}')
    : lastJsonMatching(text, FindingsOutputSchema, '{"findings": […]}');
}

/**
 * JSON Schemas of the outputs a model writes as JSON (design, findings), generated from the zod
 * schemas above, for servers that constrain the answer to a schema (Ollama `format`, Anthropic
 * tool-forced output). `changes` has none: its files come from the tools, its summary is prose.
 */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  // `input`: what the model writes (before preprocessing); `any` for what JSON Schema cannot say.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

export const OUTPUT_JSON_SCHEMAS: Readonly<Partial<Record<OutputKind, Record<string, unknown>>>> = {
  design: jsonSchemaOf(DesignOutputSchema),
  findings: jsonSchemaOf(FindingsOutputSchema),
};
