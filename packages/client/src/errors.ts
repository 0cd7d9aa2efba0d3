// The refusals of the control actions, as NightshiftErrors with stable codes: the CLI turns them
// into exit codes, the dashboard into HTTP statuses (404, 409, 400) by code.
import { NightshiftError } from '@nightshift/protocol';

/** Codes a caller can map: not found → 404, conflict → 409. */
export const CONTROL_ERROR_CODES = {
  runNotFound: 'RUN_NOT_FOUND',
  runEnded: 'RUN_ENDED',
  runNotWaiting: 'RUN_NOT_WAITING',
  conflict: 'RUN_WRITE_CONFLICT',
  alertNotFound: 'ALERT_NOT_FOUND',
  alertResolved: 'ALERT_RESOLVED',
} as const;

export function runNotFound(runId: string): NightshiftError {
  return new NightshiftError(CONTROL_ERROR_CODES.runNotFound, `no run ${runId}`, {
    category: 'invalid-input',
    details: { runId },
  });
}

export function runEnded(runId: string, status: string): NightshiftError {
  return new NightshiftError(CONTROL_ERROR_CODES.runEnded, `run ${runId} is already ${status}`, {
    category: 'policy',
    details: { runId, status },
  });
}

export function runNotWaiting(runId: string, status: string, decision: string): NightshiftError {
  return new NightshiftError(
    CONTROL_ERROR_CODES.runNotWaiting,
    `run ${runId} is ${status}, not waiting for a human: "${decision}" answers a wait (only abort works any time)`,
    { category: 'policy', details: { runId, status, decision } },
  );
}

export function writeConflict(runId: string, attempts: number): NightshiftError {
  return new NightshiftError(
    CONTROL_ERROR_CODES.conflict,
    `run ${runId} kept changing under ${attempts} write attempts; try again`,
    { category: 'transient', details: { runId, attempts } },
  );
}

/** HTTP status for a control error (the dashboard's mapping; everything else is 500). */
export function httpStatusOf(error: NightshiftError): number {
  switch (error.code) {
    case CONTROL_ERROR_CODES.runNotFound:
    case CONTROL_ERROR_CODES.alertNotFound:
      return 404;
    case CONTROL_ERROR_CODES.runEnded:
    case CONTROL_ERROR_CODES.runNotWaiting:
    case CONTROL_ERROR_CODES.alertResolved:
    case CONTROL_ERROR_CODES.conflict:
      return 409;
    default:
      return error.category === 'invalid-input' ? 400 : error.category === 'policy' ? 403 : 500;
  }
}
