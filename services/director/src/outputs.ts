// Reads the structured part of a worker's RESPONSE: the Inspector's findings (severity, file,
// description), with protocol's findings schema. A reply without a valid findings object yields
// none and says why (the Inspector's agent already asked its model once more before answering).
import type { Severity } from '@nightshift/core';
import { readOutput } from '@nightshift/protocol';

export interface ParsedFinding {
  severity: Severity;
  file?: string;
  description: string;
}

export function parseFindings(text: string): { findings: ParsedFinding[]; error?: string } {
  const read = readOutput('findings', text);
  if (!read.ok) return { findings: [], error: read.error };
  return {
    findings: read.value.findings.map((f) => ({
      severity: f.severity,
      description: f.description,
      ...(f.file ? { file: f.file } : {}),
    })),
  };
}
