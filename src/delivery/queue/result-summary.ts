import type { WebhookResultSummary } from '../../webhooks/delivery-summary';

/** One finished delivery attempt, as the bookkeeping needs it. */
export interface AttemptResult {
  webhookId: string;
  success: boolean;
  finishedAt: Date;
  error: string | null;
  /** The HTTP status, when there was a response. */
  statusCode?: number | null;
  /**
   * false: the attempt updates the last_* times and last_error but not the
   * failure streak (attempts of operational events, so that delivering the
   * service's news about failures can never make news of its own).
   */
  countsForStreak?: boolean;
}

/** Per webhook, applies its results in time order (ties in the order given): the last outcome decides the streak. */
export function summarizeResults(results: readonly AttemptResult[]): WebhookResultSummary[] {
  const ordered = results.map((r, i) => ({ r, i })).sort((a, b) => a.r.finishedAt.getTime() - b.r.finishedAt.getTime() || a.i - b.i);
  const byWebhook = new Map<string, WebhookResultSummary>();
  for (const { r } of ordered) {
    let s = byWebhook.get(r.webhookId);
    if (!s) {
      s = {
        webhookId: r.webhookId,
        triggeredAt: r.finishedAt,
        successAt: null,
        failureAt: null,
        error: null,
        statusCode: null,
        reset: false,
        failures: 0,
        failingSince: null,
      };
      byWebhook.set(r.webhookId, s);
    }
    s.triggeredAt = r.finishedAt;
    if (r.countsForStreak === false) {
      if (r.success) s.successAt = r.finishedAt;
      else {
        s.failureAt = r.finishedAt;
        s.error = r.error ?? 'delivery failed';
        s.statusCode = r.statusCode ?? null;
      }
    } else if (r.success) {
      s.successAt = r.finishedAt;
      s.reset = true;
      s.failures = 0;
      s.failingSince = null;
    } else {
      s.failureAt = r.finishedAt;
      s.error = r.error ?? 'delivery failed';
      s.statusCode = r.statusCode ?? null;
      s.failures += 1;
      s.failingSince ??= r.finishedAt;
    }
  }
  return [...byWebhook.values()].sort((a, b) => (a.webhookId < b.webhookId ? -1 : a.webhookId > b.webhookId ? 1 : 0));
}
