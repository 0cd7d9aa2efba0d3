import { describe, expect, it } from 'vitest';
import { jsonCandidates, OUTPUT_INSTRUCTIONS, readOutput } from './outputs.js';

describe('readOutput', () => {
  it('reads the last design object of a reply, strings or named objects', () => {
    const text = `Plan below.\n{"draft": true}\n{"components": ["parser", {"name": "cli"}], "risks": []}`;
    expect(readOutput('design', text)).toEqual({
      ok: true,
      value: { components: ['parser', { name: 'cli' }], risks: [] },
    });
  });

  it('names the field when the design is incomplete, and says when there is no JSON at all', () => {
    const empty = readOutput('design', '{"components": [], "risks": ["none"]}');
    expect(empty).toEqual({ ok: false, error: 'components: at least one component' });
    const missing = readOutput('design', '{"components": ["a"]}');
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.error).toMatch(/^risks: /);
    expect(readOutput('design', 'Design: one module. Risk: none.')).toEqual({
      ok: false,
      error: 'no JSON object {"components": […], "risks": […]} in the reply',
    });
  });

  it('reads findings, normalising the severity, and refuses an unknown one', () => {
    const ok = readOutput(
      'findings',
      'Ran the tests.\n{"findings":[{"severity":"MAJOR","description":"x"}]}',
    );
    expect(ok).toEqual({ ok: true, value: { findings: [{ severity: 'major', description: 'x' }] } });
    const bad = readOutput('findings', '{"findings":[{"severity":"blocker","description":"x"}]}');
    expect(bad).toEqual({ ok: false, error: 'findings.0.severity: one of critical, major, minor' });
    expect(readOutput('findings', '{"findings": [}')).toMatchObject({ ok: false });
  });

  it('has an instruction for every kind that names its JSON shape', () => {
    expect(OUTPUT_INSTRUCTIONS.design).toContain('"components"');
    expect(OUTPUT_INSTRUCTIONS.findings).toContain('"findings"');
    expect(OUTPUT_INSTRUCTIONS.changes).toMatch(/changed/);
  });
});

describe('jsonCandidates', () => {
  it('finds outermost balanced objects and ignores braces inside strings', () => {
    expect(jsonCandidates('a {"x": "}"} b {"y": {"z": 1}} {unclosed')).toEqual([
      '{"x": "}"}',
      '{"y": {"z": 1}}',
    ]);
  });
});
