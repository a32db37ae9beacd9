import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Webhook } from '../../webhooks/webhook.entity';
import { iso } from './attempt.presenter';
import { Status } from '../attempt-status';

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
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Aggregates over the window in one scan of (webhook_id, created_at); the queue over all time. */
  async forWebhook(webhook: Webhook, hours: number): Promise<WebhookStats> {
    const since = new Date(Date.now() - hours * 3_600_000);
    type Count = string | null;
    const [[agg], byType, [queue]] = await Promise.all([
      this.db.query<Array<{ total: Count; succeeded: Count; failed: Count; cancelled: Count; events_delivered: Count; avg_ms: Count; p95_ms: Count }>>(
        `SELECT count(*) FILTER (WHERE status IN ('${Status.Succeeded}','${Status.Failed}','${Status.Cancelled}')) AS total,
                count(*) FILTER (WHERE status = '${Status.Succeeded}') AS succeeded,
                count(*) FILTER (WHERE status = '${Status.Failed}') AS failed,
                count(*) FILTER (WHERE status = '${Status.Cancelled}') AS cancelled,
                count(DISTINCT event_id) FILTER (WHERE status = '${Status.Succeeded}') AS events_delivered,
                avg(duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS avg_ms,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS p95_ms
         FROM webhook_logs WHERE webhook_id = $1 AND created_at >= $2`,
        [webhook.id, since],
      ),
      this.db.query<Array<{ event_type: string; total: string; succeeded: string; failed: string }>>(
        `SELECT event_type, count(*) AS total, count(*) FILTER (WHERE status = '${Status.Succeeded}') AS succeeded, count(*) FILTER (WHERE status = '${Status.Failed}') AS failed
         FROM webhook_logs WHERE webhook_id = $1 AND created_at >= $2 AND status IN ('${Status.Succeeded}','${Status.Failed}','${Status.Cancelled}') GROUP BY event_type ORDER BY event_type`,
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
    const succeeded = num(agg.succeeded);
    const failed = num(agg.failed);
    const done = succeeded + failed;
    return {
      webhook_id: webhook.id,
      window_hours: hours,
      since: since.toISOString(),
      total_attempts: num(agg.total),
      succeeded,
      failed,
      cancelled: num(agg.cancelled),
      success_rate: done ? Math.round((succeeded / done) * 10000) / 10000 : null,
      events_delivered: num(agg.events_delivered),
      events_pending_retry: num(queue.events_pending_retry),
      avg_duration_ms: agg.avg_ms === null ? null : Math.round(Number(agg.avg_ms) * 10) / 10,
      p95_duration_ms: agg.p95_ms === null ? null : Math.round(Number(agg.p95_ms) * 10) / 10,
      queue: {
        pending: num(queue.pending),
        due: num(queue.due),
        sending: num(queue.sending),
        oldest_due_at: iso(queue.oldest_due_at),
        behind_seconds: queue.oldest_due_at ? Math.max(0, Math.round((Date.now() - queue.oldest_due_at.getTime()) / 100) / 10) : 0,
      },
      by_event_type: Object.fromEntries(byType.map((r) => [r.event_type, { total: num(r.total), succeeded: num(r.succeeded), failed: num(r.failed) }])),
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
