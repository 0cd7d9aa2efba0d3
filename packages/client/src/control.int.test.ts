// @nightshift/client against a real Redis (issue 22 acceptance: the client has its own tests): a run's
// pause / resume / abort through openControl, each action's no-op and refusal, and typed errors for
// bad input and unknown runs. The test plays the Director: it appends the run's creation itself.
import { randomBytes } from 'node:crypto';
import { stamp } from '@nightshift/core';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTROL_ERROR_CODES, openControl } from './index.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const control = openControl({ url, prefix: `{t-client-${randomBytes(4).toString('hex')}}` });

afterAll(async () => {
  const { redis, keys } = control.parts;
  const found = await redis.keys(`${keys.prefix}*`);
  if (found.length > 0) await redis.del(...found);
  await control.bus.close();
});

async function createdRun(runId: string): Promise<void> {
  const at = new Date().toISOString();
  const result = await control.parts.store.append(runId, 0, [
    stamp({ type: 'run.created', runId, task: `task of ${runId}` }, at),
  ]);
  expect(result.ok).toBe(true);
}

describe('openControl against Redis', () => {
  it('pauses, resumes and aborts a run; a repeat changes nothing; an ended run refuses', async () => {
    const runId = `run_client${randomBytes(3).toString('hex')}`;
    await createdRun(runId);

    const paused = await control.pauseRun(runId, { note: 'for the night' });
    expect(paused).toMatchObject({ runId, action: 'pause', changed: true, status: 'paused' });
    expect(paused.messageId).toBeDefined();
    expect(await control.pauseRun(runId)).toMatchObject({ changed: false, status: 'paused' });

    const resumed = await control.resumeRun(runId);
    expect(resumed).toMatchObject({ action: 'resume', changed: true });
    expect(resumed.status).not.toBe('paused');
    expect(await control.resumeRun(runId)).toMatchObject({ changed: false, status: resumed.status });

    // Abort is a human decision the Director carries out; the run ends when it does (played here).
    const abort = await control.abortRun(runId, { note: 'wrong repository' });
    expect(abort).toMatchObject({ action: 'abort', changed: true });
    expect(abort.messageId).toBeDefined();
    const version = await control.parts.store.version(runId);
    const at = new Date().toISOString();
    await control.parts.store.append(runId, version, [
      stamp({ type: 'run.finished', outcome: 'aborted', summary: 'aborted by a human' }, at),
    ]);
    await expect(control.resumeRun(runId)).rejects.toMatchObject({ code: CONTROL_ERROR_CODES.runEnded });
    await expect(control.pauseRun(runId)).rejects.toMatchObject({ code: CONTROL_ERROR_CODES.runEnded });
    await expect(control.abortRun(runId)).rejects.toMatchObject({ code: CONTROL_ERROR_CODES.runEnded });
  });

  it('names the bad field of a run it will not start, and an unknown run by its id', async () => {
    await expect(control.startRun({ task: 42 })).rejects.toThrow(/task/);
    await expect(control.getRun('run_nosuchrun')).rejects.toMatchObject({
      code: CONTROL_ERROR_CODES.runNotFound,
      message: expect.stringContaining('run_nosuchrun'),
    });
    await expect(control.pauseRun('run_nosuchrun')).rejects.toMatchObject({
      code: CONTROL_ERROR_CODES.runNotFound,
    });
  });
});
