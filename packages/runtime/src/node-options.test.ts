import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_OPTIONS, withServiceNodeOptions } from './node-options.js';

describe('withServiceNodeOptions', () => {
  it('adds the service V8 settings when NODE_OPTIONS is unset or empty, and keeps a user value', () => {
    expect(withServiceNodeOptions({ A: '1' })).toEqual({ A: '1', NODE_OPTIONS: SERVICE_NODE_OPTIONS });
    expect(withServiceNodeOptions({ NODE_OPTIONS: '' }).NODE_OPTIONS).toBe(SERVICE_NODE_OPTIONS);
    expect(withServiceNodeOptions({ NODE_OPTIONS: '--inspect' }).NODE_OPTIONS).toBe('--inspect');
  });

  it('is what the Docker image sets', () => {
    const dockerfile = readFileSync(new URL('../../../deploy/Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toContain(`NODE_OPTIONS="${SERVICE_NODE_OPTIONS}"`);
  });
});
