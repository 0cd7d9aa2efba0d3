// The benchmark's sections in run order; each `run(ctx)` returns the JSON of its figures.
import { benchBus } from './bus.mjs';
import { benchDispatch } from './dispatch.mjs';
import { benchFullRun } from './full-run.mjs';
import { benchLimiter } from './limiter.mjs';
import { benchMemory } from './memory.mjs';
import { benchPeers } from './peers.mjs';
import { benchSandbox } from './sandbox.mjs';

export const SECTIONS = [
  { name: 'bus', run: benchBus },
  { name: 'dispatch', run: benchDispatch },
  { name: 'limiter', run: benchLimiter },
  { name: 'fullRun', run: benchFullRun },
  { name: 'memory', run: benchMemory },
  { name: 'peers', run: benchPeers },
  { name: 'sandbox', run: benchSandbox },
];
