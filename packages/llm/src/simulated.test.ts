// The simulated models: labelled as such, scripted order, abortable latency.
import { NightshiftError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { InstantChatModel, ScriptedChatModel } from './simulated.js';

const ask = { role: 'scout' as const, messages: [{ role: 'user' as const, content: 'Where is X?\nmore' }] };

describe('simulated models', () => {
  it('label every answer as simulated', async () => {
    const instant = await new InstantChatModel().chat(ask);
    expect(instant.provider).toBe('simulated');
    expect(instant.text).toBe('[simulated] scout acknowledges: Where is X?');
    const scripted = await new ScriptedChatModel({ replies: ['found it'] }).chat(ask);
    expect(scripted.text).toBe('found it');
    expect(scripted.model).toBe('simulated:scripted');
    expect(scripted.provider).toBe('simulated');
  });

  it('answers in script order and can refuse when the script runs out', async () => {
    const model = new ScriptedChatModel({ replies: ['one', 'two'], whenExhausted: 'throw' });
    expect((await model.chat(ask)).text).toContain('one');
    expect((await model.chat(ask)).text).toContain('two');
    await expect(model.chat(ask)).rejects.toThrow(/no reply scripted/);
  });

  it('honours an abort during its simulated latency', async () => {
    const controller = new AbortController();
    const pending = new InstantChatModel({ latencyMs: 60_000 }).chat({ ...ask, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(NightshiftError);
  });
});
