// The seven agents of the guide (§1) as lower-case ids, plus the non-agent senders.
import { z } from 'zod';

export const ROLES = [
  'director',
  'architect',
  'scout',
  'builder',
  'refactorer',
  'inspector',
  'scribe',
] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** The roles served by the generic agent process (`services/agent`, one queue `agent.<role>` each). */
export const WORKER_ROLES = ['architect', 'scout', 'builder', 'refactorer', 'inspector'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

/** Senders that are not agents: a person, the runtime itself, the watchdog. */
export const EXTERNAL_SENDERS = ['human', 'system', 'sentinel'] as const;
export const SenderSchema = z.enum([...ROLES, ...EXTERNAL_SENDERS]);
export type Sender = z.infer<typeof SenderSchema>;

export const RecipientSchema = z.enum([...ROLES, 'ALL']);
export type Recipient = z.infer<typeof RecipientSchema>;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isWorkerRole(value: unknown): value is WorkerRole {
  return typeof value === 'string' && (WORKER_ROLES as readonly string[]).includes(value);
}

/** `builder` → `Builder`, as the guide writes agent names; `ALL` stays `ALL`. */
export function displayName(id: Sender | Recipient): string {
  if (id === 'ALL') return id;
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** Inverse of displayName, tolerant of case and surrounding space ("  BUILDER " → builder). */
export function senderFromDisplay(name: string): Sender | undefined {
  const id = name.trim().toLowerCase();
  const parsed = SenderSchema.safeParse(id);
  return parsed.success ? parsed.data : undefined;
}

export function recipientFromDisplay(name: string): Recipient | undefined {
  const trimmed = name.trim();
  if (trimmed.toUpperCase() === 'ALL') return 'ALL';
  const parsed = RoleSchema.safeParse(trimmed.toLowerCase());
  return parsed.success ? parsed.data : undefined;
}
