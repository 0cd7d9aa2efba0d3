// Reads the structured part of a worker's RESPONSE: the Inspector's findings (severity, file,
// description). A reply without a valid findings object yields none and says why.
import { SEVERITIES, type Severity } from '@nightshift/core';
import { z } from 'zod';
import { jsonCandidates } from './verdict.js';

const FindingSchema = z.object({
  severity: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(SEVERITIES)),
  file: z.string().optional(),
  description: z.string().min(1),
});
const FindingsSchema = z.object({ findings: z.array(FindingSchema) });

export interface ParsedFinding {
  severity: Severity;
  file?: string;
  description: string;
}

export function parseFindings(text: string): { findings: ParsedFinding[]; error?: string } {
  let error = 'no {"findings": [...]} object in the reply';
  for (const candidate of jsonCandidates(text).reverse()) {
    try {
      const parsed = FindingsSchema.safeParse(JSON.parse(candidate));
      if (parsed.success) {
        return {
          findings: parsed.data.findings.map((f) => ({
            severity: f.severity,
            description: f.description,
            ...(f.file ? { file: f.file } : {}),
          })),
        };
      }
      error = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    } catch (e) {
      error = `invalid JSON: ${(e as Error).message}`;
    }
  }
  return { findings: [], error };
}
