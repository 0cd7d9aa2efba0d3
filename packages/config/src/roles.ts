// Guide §7 "Agent-Specific Settings" as data: timeout, tools and priority of each of the seven roles.
import { ROLES, type Role } from '@nightshift/protocol';
import { z } from 'zod';
import { int, stringList, toolName } from './primitives.js';

export const PRIORITIES = ['highest', 'high', 'normal', 'low'] as const;
export type RolePriority = (typeof PRIORITIES)[number];

/**
 * BullMQ priority numbers: 1 runs first. Never 0 — a job without priority (0) jumps ahead of
 * every prioritised job (REFERENCE.md, BullMQ priorities), so each level maps to ≥ 1.
 */
export const BULLMQ_PRIORITY: Readonly<Record<RolePriority, number>> = Object.freeze({
  highest: 1,
  high: 2,
  normal: 3,
  low: 4,
});

interface RoleDefaults {
  timeoutSeconds: number;
  priority: RolePriority;
  tools: readonly string[];
  concurrency: number;
}

const READ = ['read_file', 'list_files', 'search_files'] as const;

// guide §7: Director 120 s / Architect 180 / Scout 300 / Builder 900 / Refactorer 600 /
// Inspector 600 / Scribe 60; priorities Highest, High, Normal ×4, Low. Tools follow the
// table's prose ("File read, analysis", "Web search, file read", "File write only", …).
// concurrency = jobs ONE process of the role runs at once; scale out with more processes.
export const ROLE_DEFAULTS: Readonly<Record<Role, RoleDefaults>> = Object.freeze({
  director: { timeoutSeconds: 120, priority: 'highest', tools: ['coordination'], concurrency: 1 },
  architect: { timeoutSeconds: 180, priority: 'high', tools: [...READ], concurrency: 1 },
  scout: { timeoutSeconds: 300, priority: 'normal', tools: [...READ, 'web_search'], concurrency: 1 },
  builder: {
    timeoutSeconds: 900,
    priority: 'normal',
    // guide §5: Scout can be queried by anyone (ask_scout), as in the tools package's table.
    tools: [
      'read_file',
      'write_file',
      'edit_file',
      'list_files',
      'search_files',
      'run_command',
      'git',
      'ask_scout',
    ],
    concurrency: 1,
  },
  refactorer: {
    timeoutSeconds: 600,
    priority: 'normal',
    tools: ['read_file', 'write_file', 'edit_file', 'list_files', 'search_files', 'ask_scout'],
    concurrency: 1,
  },
  inspector: {
    timeoutSeconds: 600,
    priority: 'normal',
    tools: [...READ, 'run_command', 'ask_scout'],
    concurrency: 1,
  },
  scribe: { timeoutSeconds: 60, priority: 'low', tools: ['write_memory'], concurrency: 1 },
});

const PRIORITY_FORM = `one of ${PRIORITIES.join(', ')}`;

function roleSettings(role: Role) {
  const d = ROLE_DEFAULTS[role];
  return z
    .strictObject({
      timeoutSeconds: int(1).default(d.timeoutSeconds),
      priority: z.enum(PRIORITIES, { error: PRIORITY_FORM }).default(d.priority),
      // Unset = derived from `priority`, so overriding the priority alone keeps the two in step.
      bullmqPriority: int(1, 2_097_152).optional(),
      tools: stringList(toolName).default(() => [...d.tools]),
      concurrency: int(1).default(d.concurrency),
    })
    .transform(({ bullmqPriority, ...rest }) => ({
      ...rest,
      bullmqPriority: bullmqPriority ?? BULLMQ_PRIORITY[rest.priority],
    }))
    .prefault({});
}

const roleShape = Object.fromEntries(ROLES.map((role) => [role, roleSettings(role)])) as {
  [R in Role]: ReturnType<typeof roleSettings>;
};

export const RolesSchema = z.strictObject(roleShape).prefault({});
export type RoleSettings = z.infer<ReturnType<typeof roleSettings>>;
