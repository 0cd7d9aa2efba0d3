// The guide's escalation levels 0–4 (§4 "Escalation Levels"), shared by alerts, detection and escalation.

import { z } from 'zod';
import { deepFreeze } from './freeze.js';

export const LEVELS = [0, 1, 2, 3, 4] as const;
export const LevelSchema = z.literal(LEVELS);
/** 0 normal · 1 agent issue · 2 coordination issue · 3 system issue · 4 abort. */
export type Level = (typeof LEVELS)[number];

export const LEVEL_NAMES: Readonly<Record<Level, string>> = deepFreeze({
  0: 'normal',
  1: 'agent',
  2: 'coordination',
  3: 'system',
  4: 'abort',
});

export function maxLevel(a: Level, b: Level): Level {
  return a >= b ? a : b;
}
