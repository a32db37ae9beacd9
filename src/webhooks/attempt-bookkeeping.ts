/** One finished delivery attempt, as the delivery module reports it. */
export interface AttemptResult {
  webhookId: string;
  success: boolean;
  finishedAt: Date;
  error: string | null;
}

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
  /** Whether a success ended the stored streak (the streak then restarts with `failures`). */
  reset: boolean;
  /** Failures after the last success in the batch (all failures when there was none). */
  failures: number;
  /** The first of those failures, or null. */
  failingSince: Date | null;
}

/** Per webhook, applies its results in time order (ties in the order given): the last outcome decides the streak. */
export function summarizeResults(results: readonly AttemptResult[]): WebhookResultSummary[] {
  const ordered = results.map((r, i) => ({ r, i })).sort((a, b) => a.r.finishedAt.getTime() - b.r.finishedAt.getTime() || a.i - b.i);
  const byWebhook = new Map<string, WebhookResultSummary>();
  for (const { r } of ordered) {
    let s = byWebhook.get(r.webhookId);
    if (!s) {
      s = { webhookId: r.webhookId, triggeredAt: r.finishedAt, successAt: null, failureAt: null, error: null, reset: false, failures: 0, failingSince: null };
      byWebhook.set(r.webhookId, s);
    }
    s.triggeredAt = r.finishedAt;
    if (r.success) {
      s.successAt = r.finishedAt;
      s.reset = true;
      s.failures = 0;
      s.failingSince = null;
    } else {
      s.failureAt = r.finishedAt;
      s.error = r.error ?? 'delivery failed';
      s.failures += 1;
      s.failingSince ??= r.finishedAt;
    }
  }
  return [...byWebhook.values()].sort((a, b) => (a.webhookId < b.webhookId ? -1 : a.webhookId > b.webhookId ? 1 : 0));
}
