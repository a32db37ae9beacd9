/** A `webhook_attempts` row (the queue's and the log's, as one view) as the raw queries return it. */
export interface StoredAttempt {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  trigger: string;
  status: string;
  success: boolean | null;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  scheduled_at: Date;
  next_retry_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  request_headers?: Record<string, string> | null;
  response_headers?: Record<string, string> | null;
  response_body?: string | null;
}

/** Column list for the list views (no large columns). */
export const ATTEMPT_LIST_COLUMNS =
  'id, webhook_id, event_id, event_type, attempt, trigger, status, success, status_code, duration_ms, error, scheduled_at, next_retry_at, created_at, started_at, finished_at';

export const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

export function presentAttempt(row: StoredAttempt) {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event_type: row.event_type,
    attempt: row.attempt,
    trigger: row.trigger,
    status: row.status,
    success: row.success,
    status_code: row.status_code,
    duration_ms: row.duration_ms,
    error: row.error,
    scheduled_at: iso(row.scheduled_at),
    next_retry_at: iso(row.next_retry_at),
    created_at: iso(row.created_at),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
  };
}

export type AttemptView = ReturnType<typeof presentAttempt>;
