// The wire contract (guide §5 "Message Format Standard"). Field names are public: user scripts
// and other tools read them from streams and jobs, so they change only with a major version.
import { z } from 'zod';
import { OutputKindSchema } from './outputs.js';
import { RecipientSchema, SenderSchema } from './roles.js';

export const MESSAGE_TYPES = ['STATUS', 'REQUEST', 'RESPONSE', 'DECISION', 'ALERT'] as const;
export const MessageTypeSchema = z.enum(MESSAGE_TYPES);
export type MessageType = z.infer<typeof MessageTypeSchema>;

export const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'EMERGENCY'] as const;
export const PrioritySchema = z.enum(PRIORITIES);
export type Priority = z.infer<typeof PrioritySchema>;

/** BullMQ priority per message priority: 1 is served first. Never 0 (REFERENCE: 0 jumps the line). */
export const BULLMQ_PRIORITY: Readonly<Record<Priority, number>> = {
  EMERGENCY: 1,
  HIGH: 2,
  NORMAL: 3,
  LOW: 4,
};

/**
 * Ids double as BullMQ job ids, which may not contain ':' nor be all digits (REFERENCE, bullmq
 * issues 4052/3384), and as Redis key parts; so: a letter or digit, then letters, digits, `_.-`.
 */
export const IdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'an id of letters, digits, "_", "." or "-" (1-128 chars)')
  .refine((s) => !/^\d+$/.test(s), 'an id that is not all digits');

/** The guide's four phases: 1 planning, 2 execution, 3 review, 4 iterate. */
export const PhaseSchema = z.int().min(1).max(4);
export type Phase = z.infer<typeof PhaseSchema>;
export const PHASE_NAMES: Readonly<Record<Phase, string>> = {
  1: 'Planning',
  2: 'Execution',
  3: 'Review',
  4: 'Iterate',
};

/** Content larger than this is refused at publish and dead-lettered when read (default 256 KiB). */
export const MAX_CONTENT_CHARS = 256 * 1024;

export const MessageSchema = z.strictObject({
  id: IdSchema,
  runId: IdSchema,
  from: SenderSchema,
  to: RecipientSchema,
  type: MessageTypeSchema,
  priority: PrioritySchema,
  timestamp: z.iso.datetime({ offset: true }),
  content: z.string().max(MAX_CONTENT_CHARS),
  context: z.string().max(MAX_CONTENT_CHARS).optional(),
  expectedResponse: z.string().max(MAX_CONTENT_CHARS).optional(),
  inReplyTo: IdSchema.optional(),
  phase: PhaseSchema.optional(),
  attempt: z.int().min(1).max(1000).optional(),
  /** The structured output a REQUEST asks for (see outputs.ts); the answering agent enforces it. */
  output: OutputKindSchema.optional(),
});
export type Message = z.infer<typeof MessageSchema>;
