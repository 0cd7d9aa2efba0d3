// Paths of the built service entry files, as `node <path>` starts them.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SERVICE_MAIN = {
  director: join(ROOT, 'services/director/dist/main.js'),
  agent: join(ROOT, 'services/agent/dist/main.js'),
  'llm-gateway': join(ROOT, 'services/llm-gateway/dist/main.js'),
  scribe: join(ROOT, 'services/scribe/dist/main.js'),
  sentinel: join(ROOT, 'services/sentinel/dist/main.js'),
  dashboard: join(ROOT, 'services/dashboard/dist/main.js'),
} as const;
