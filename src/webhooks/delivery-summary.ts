/**
 * What the registry keeps about deliveries (last success and failure, the
 * failure streak, auto-disable) is written from these summaries, which the
 * delivery module computes from finished attempts (it knows what results
 * mean); the registry stores them on its own table.
 */
/** The net effect of a batch of results on one webhook's bookkeeping columns. */
export interface WebhookResultSummary {
  webhookId: string;
  /** Latest finishedAt of any attempt. */
  triggeredAt: Date;
  /** Latest success, or null. */
  successAt: Date | null;
  /** Latest failure, or null. */
  failureAt: Date | null;
  /** The error of the latest failure. */
  error: string | null;
  /** The HTTP status of the latest failure (null: none, or no response), for the operational events. */
  statusCode?: number | null;
  /** Whether a success ended the stored streak (the streak then restarts with `failures`). */
  reset: boolean;
  /** Failures after the last success in the batch (all failures when there was none). */
  failures: number;
  /** The first of those failures, or null. */
  failingSince: Date | null;
}
