import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Webhook } from '../../webhooks/webhook.entity';
import { iso } from './attempt.presenter';
import { Status } from '../attempt-status';
import { durationSummary, WebhookRollups } from './webhook-rollups';

export interface WebhookStats {
  webhook_id: string;
  window_hours: number;
  since: string;
  total_attempts: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  success_rate: number | null;
  events_delivered: number;
  events_pending_retry: number;
  avg_duration_ms: number | null;
  p95_duration_ms: number | null;
  queue: { pending: number; due: number; sending: number; oldest_due_at: string | null; behind_seconds: number };
  by_event_type: Record<string, { total: number; succeeded: number; failed: number }>;
  last_triggered_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  consecutive_failures: number;
  enabled: boolean;
  disabled_reason: string | null;
  rate_limit: number | null;
  ordering: string;
}

const num = (v: unknown): number => Number(v ?? 0);

@Injectable()
export class StatsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly rollups: WebhookRollups,
  ) {}

  /**
   * The window's counts, durations and event types from the webhook's minute rollups (webhook-rollups.ts: hours that
   * are over reused, the rest read), the distinct delivered events with one more index range, the queue over all time.
   */
  async forWebhook(webhook: Webhook, hours: number): Promise<WebhookStats> {
    const since = new Date(Date.now() - hours * 3_600_000);
    type Count = string | null;
    const [chunks, [others], [queue]] = await Promise.all([
      this.rollups.window(webhook.id, since),
      // events delivered = distinct events among the succeeded attempts. An event's own chain of attempts (trigger
      // 'event': the first and its retries) ends at its first success, so it succeeds at most once; only attempts
      // outside it (test, redeliver, recover; the partial index of those) can deliver an event again. So: the succeeded
      // attempts, less those outside a chain, plus the distinct events these delivered that no chain attempt did.
      this.db.query<Array<{ succeeded: Count; events: Count; also_in_chain: Count }>>(
        `SELECT count(*) AS succeeded, count(DISTINCT o.event_id) AS events,
                count(DISTINCT o.event_id) FILTER (WHERE EXISTS (
                  SELECT 1 FROM webhook_logs l WHERE l.event_id = o.event_id AND l.webhook_id = $1 AND l.created_at >= $2
                    AND l.status = '${Status.Succeeded}' AND l.trigger = 'event')) AS also_in_chain
         FROM webhook_logs o WHERE o.webhook_id = $1 AND o.created_at >= $2 AND o.trigger <> 'event' AND o.status = '${Status.Succeeded}'`,
        [webhook.id, since],
      ),
      this.db.query<Array<{ pending: Count; due: Count; sending: Count; oldest_due_at: Date | null; events_pending_retry: Count }>>(
        `SELECT count(*) FILTER (WHERE NOT leased) AS pending,
                count(*) FILTER (WHERE NOT leased AND scheduled_at <= now()) AS due,
                count(*) FILTER (WHERE leased) AS sending,
                min(scheduled_at) FILTER (WHERE NOT leased AND scheduled_at <= now()) AS oldest_due_at,
                count(DISTINCT event_id) FILTER (WHERE NOT leased AND attempt > 1) AS events_pending_retry
         FROM (SELECT *, COALESCE(locked_until > now(), false) AS leased FROM delivery_queue WHERE webhook_id = $1) AS q`,
        [webhook.id],
      ),
    ]);
    const agg = { succeeded: 0, failed: 0, cancelled: 0 };
    const byTypeMap = new Map<string, { total: number; succeeded: number; failed: number }>();
    for (const c of chunks) {
      for (const cell of c.minutes.values()) {
        agg.succeeded += cell.succeeded;
        agg.failed += cell.failed;
        agg.cancelled += cell.cancelled;
      }
      for (const [type, t] of c.byType) {
        const into = byTypeMap.get(type) ?? { total: 0, succeeded: 0, failed: 0 };
        into.total += t.total;
        into.succeeded += t.succeeded;
        into.failed += t.failed;
        byTypeMap.set(type, into);
      }
    }
    const durations = durationSummary(
      chunks.flatMap((c) => [...c.minutes.values()]),
      [0.95],
    );
    const avgMs = durations.count ? durations.sum / durations.count : null;
    const p95Ms = durations.percentiles[0];
    const byType = [...byTypeMap].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const eventsDelivered = agg.succeeded - num(others.succeeded) + num(others.events) - num(others.also_in_chain);
    const { succeeded, failed } = agg;
    const done = succeeded + failed;
    return {
      webhook_id: webhook.id,
      window_hours: hours,
      since: since.toISOString(),
      total_attempts: succeeded + failed + agg.cancelled,
      succeeded,
      failed,
      cancelled: agg.cancelled,
      success_rate: done ? Math.round((succeeded / done) * 10000) / 10000 : null,
      events_delivered: eventsDelivered,
      events_pending_retry: num(queue.events_pending_retry),
      avg_duration_ms: avgMs === null ? null : Math.round(avgMs * 10) / 10,
      p95_duration_ms: p95Ms === null ? null : Math.round(p95Ms * 10) / 10,
      queue: {
        pending: num(queue.pending),
        due: num(queue.due),
        sending: num(queue.sending),
        oldest_due_at: iso(queue.oldest_due_at),
        behind_seconds: queue.oldest_due_at ? Math.max(0, Math.round((Date.now() - queue.oldest_due_at.getTime()) / 100) / 10) : 0,
      },
      by_event_type: Object.fromEntries(byType),
      last_triggered_at: iso(webhook.lastTriggeredAt),
      last_success_at: iso(webhook.lastSuccessAt),
      last_failure_at: iso(webhook.lastFailureAt),
      consecutive_failures: webhook.consecutiveFailures,
      enabled: webhook.enabled,
      disabled_reason: webhook.disabledReason,
      rate_limit: webhook.rateLimit,
      ordering: webhook.ordering,
    };
  }
}
