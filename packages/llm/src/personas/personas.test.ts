// Personas (one per role, ROLE marker, guide boundaries), prompt building and reading model replies.
import { type Message, ROLES, render } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { buildAgentPrompt, PERSONAS, readModelReply } from './index.js';

describe('personas', () => {
  it('has a distinct system prompt with a ROLE marker for each of the seven roles', () => {
    const prompts = ROLES.map((role) => PERSONAS[role].systemPrompt);
    expect(new Set(prompts).size).toBe(7);
    for (const role of ROLES) {
      const prompt = PERSONAS[role].systemPrompt;
      expect(prompt.split('\n')).toContain(`ROLE: ${role}`);
      expect(prompt).toContain('### Content');
      expect(prompt).toContain('TYPE: RESPONSE');
    }
  });

  it('keeps the guide’s role boundaries in the prompts', () => {
    expect(PERSONAS.architect.systemPrompt).toMatch(/never direct/i);
    expect(PERSONAS.inspector.systemPrompt).toMatch(/severity/i);
    expect(PERSONAS.refactorer.systemPrompt).toMatch(/without changing behaviour/i);
    expect(PERSONAS.scout.systemPrompt).toMatch(/any agent/i);
    expect(PERSONAS.director.systemPrompt).toMatch(/arbitrate/i);
    expect(PERSONAS.scribe.systemPrompt).toMatch(/summar/i);
  });
});

const request: Message = {
  id: 'msg_1',
  runId: 'run_1',
  from: 'director',
  to: 'builder',
  type: 'REQUEST',
  priority: 'HIGH',
  timestamp: '2026-01-28T03:45:00.000Z',
  content: 'Implement the auth module.',
};

describe('buildAgentPrompt', () => {
  it('puts the persona first and the rendered request last', () => {
    const messages = buildAgentPrompt('builder', request);
    expect(messages[0]).toEqual({ role: 'system', content: PERSONAS.builder.systemPrompt });
    expect(messages.at(-1)).toEqual({ role: 'user', content: render(request) });
  });
});

describe('readModelReply', () => {
  it('takes the sections of a well-formed message', () => {
    const text = [
      'FROM: Builder',
      'TO: Director',
      'TYPE: RESPONSE',
      'PRIORITY: NORMAL',
      'TIMESTAMP: 2026-01-28T03:50:00Z',
      '',
      '### Content',
      'Done.',
      '',
      '### Context',
      'Used JWT.',
      '',
    ].join('\n');
    expect(readModelReply(text)).toEqual({ content: 'Done.', context: 'Used JWT.', formatted: true });
  });

  it('drops <think> blocks and code fences', () => {
    const text =
      '<think>hmm</think>\n```\nFROM: Builder\nTO: Director\nTYPE: RESPONSE\nPRIORITY: LOW\nTIMESTAMP: 2026-01-28T03:50:00Z\n\n### Content\nok\n```';
    expect(readModelReply(text)).toMatchObject({ content: 'ok', formatted: true });
  });

  it('falls back to the sections when the headers are wrong', () => {
    const text =
      'FROM: Builder\nTO: whoever asked\nTIMESTAMP: now\n\n### Content\nThe answer.\n\n### Expected Response\nNothing.';
    expect(readModelReply(text)).toEqual({
      content: 'The answer.',
      expectedResponse: 'Nothing.',
      formatted: false,
    });
  });

  it('keeps free text whole rather than losing it', () => {
    expect(readModelReply('just an answer')).toEqual({ content: 'just an answer', formatted: false });
    expect(readModelReply('   ')).toEqual({ content: '(empty answer)', formatted: false });
  });

  it('clips an oversized answer to the schema limit', () => {
    const reply = readModelReply('x'.repeat(300 * 1024));
    expect(reply.content.length).toBe(256 * 1024);
    expect(reply.content.endsWith('[truncated]')).toBe(true);
  });
});
