import { describe, expect, it } from 'vitest';
import { checkOutput, correction } from './output-check.js';

describe('checkOutput', () => {
  it('changes: lists the written files, and refuses an empty answer', () => {
    expect(checkOutput('changes', 'Fixed sum().', ['src/sum.js', 'test/sum.test.js'])).toEqual({
      ok: true,
      line: 'changed files: src/sum.js, test/sum.test.js',
    });
    const empty = checkOutput('changes', '   ', ['src/sum.js']);
    expect(empty.ok).toBe(false);
    expect(!empty.ok && empty.error).toMatch(/^summary: a non-empty summary/);
  });

  it('design and findings: the JSON of the reply decides', () => {
    expect(checkOutput('design', '{"components": ["a"], "risks": []}', [])).toEqual({ ok: true });
    expect(checkOutput('findings', 'all good', [])).toMatchObject({ ok: false });
  });

  it('correction names the kind, the error and the expected shape', () => {
    const text = correction('findings', 'findings.0.severity: one of critical, major, minor');
    expect(text).toContain('required findings output: findings.0.severity');
    expect(text).toContain('{"findings": [');
  });
});
