/**
 * Errors of the supervision layer, each with a stable code.
 * - ESCALATED: a supervisor gave up on a child and stopped; carried to its parent.
 * - DUPLICATE_CHILD: a child id is already taken in that supervisor.
 * - INVALID_STATE: the operation is not possible in the supervisor's current state.
 */
export type SupervisorErrorCode = "ESCALATED" | "DUPLICATE_CHILD" | "INVALID_STATE";

export class SupervisorError extends Error {
  override name = "SupervisorError";

  constructor(
    readonly code: SupervisorErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Reported to the parent when a supervisor escalates; `cause` is the child's failure. */
export class EscalationError extends SupervisorError {
  override name = "EscalationError";

  constructor(
    readonly supervisor: string,
    readonly childId: string,
    why: string,
    options: { cause: unknown },
  ) {
    super("ESCALATED", `supervisor "${supervisor}" escalated: child "${childId}" ${why}`, options);
  }
}

export function isSupervisorError(error: unknown): error is SupervisorError {
  return error instanceof SupervisorError;
}

export function isEscalationError(error: unknown): error is EscalationError {
  return error instanceof EscalationError;
}
