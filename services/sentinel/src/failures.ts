// Why a job failed, for the circuit breaker: only the model/provider failing says anything about
// the provider's health (issue 9 §4). A poison job (bad input, dead-lettered) fails the same way
// whatever the provider does, so counting it would let one bad message pause a healthy queue.
import { parseFailureReason } from '@nightshift/protocol';

/**
 * `provider`: the model, Ollama/Anthropic or the gateway in front of them failed (counts).
 * `input`: the job itself is bad — invalid, misrouted, refused by policy, dead-lettered (never counts).
 * `other`: anything else — the agent's own code, a tool, BullMQ giving up on a dying worker (never counts).
 */
export type FailureKind = 'provider' | 'input' | 'other';

/**
 * The reasons services/agent admit() dead-letters a job with (UnrecoverableError, no prefix):
 * a message that does not parse, is not a REQUEST, is on the wrong queue, or breaks the topology.
 */
const POISON_PREFIXES = ['invalid message', 'not a REQUEST', 'misrouted', 'topology violation'];

/** LLM_* codes that are the caller's doing, not the provider's: it gave up or shut down. */
const CALLER_CODES = new Set(['LLM_ABORTED', 'LLM_CLIENT_CLOSED']);

export function classifyFailure(failedReason: string | undefined): FailureKind {
  const reason = (failedReason ?? '').trimStart();
  // `[CODE/category] message`, as packages/llm encodeFailure and services/agent write it.
  const wire = parseFailureReason(reason);
  if (wire) {
    const { code, category } = wire;
    // The provider said the request itself is wrong (HTTP 400) or a rule refused it: the job's fault.
    if (category === 'invalid-input' || category === 'policy') return 'input';
    if (code === 'TIMEOUT') return 'provider';
    if (code.startsWith('LLM_') && !CALLER_CODES.has(code)) return 'provider';
    return 'other';
  }
  if (POISON_PREFIXES.some((p) => reason.startsWith(p))) return 'input';
  // No prefix: BullMQ's own reasons ("job stalled more than allowable limit") or a worker that does
  // not speak the wire form; neither is evidence about the provider.
  return 'other';
}
