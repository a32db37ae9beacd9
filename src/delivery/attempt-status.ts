/**
 * The states of an attempt (docs/engine.md draws them): one list for the
 * entity, the DTOs, every SQL string and the table's CHECK constraint.
 */
export const Status = {
  /** Queued, due at scheduled_at. */
  Pending: 'pending',
  /** Claimed by an instance and leased until locked_until. */
  Sending: 'sending',
  Succeeded: 'succeeded',
  Failed: 'failed',
  /** Dropped unsent (its webhook was disabled). */
  Cancelled: 'cancelled',
} as const;

export type AttemptStatus = (typeof Status)[keyof typeof Status];

export const ATTEMPT_STATUSES: readonly AttemptStatus[] = Object.values(Status);

/** The statuses of attempts still to be sent: the queue. */
export const QUEUED_SQL = `('${Status.Pending}', '${Status.Sending}')`;

/** The statuses of the attempt log (webhook_logs): attempts that are over. */
export type FinishedStatus = typeof Status.Succeeded | typeof Status.Failed | typeof Status.Cancelled;
export const FINISHED_SQL = `('${Status.Succeeded}', '${Status.Failed}', '${Status.Cancelled}')`;
