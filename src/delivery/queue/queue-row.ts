import type { ClaimedAttempt } from '../attempt.types';
import type { AttemptTrigger } from '../attempt.entity';

/** A `delivery_queue` row as claims return it. */
export interface QueueRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_created_at: Date;
  event_type: string;
  attempt: number;
  trigger: AttemptTrigger;
}

export const QUEUE_ROW_COLUMNS = ['id', 'webhook_id', 'event_id', 'event_created_at', 'event_type', 'attempt', 'trigger'] as const;

/** A queue row is free to claim when nobody holds it, or its holder's lease ran out (the instance died or hung: at least once). */
export const CLAIMABLE = '(locked_until IS NULL OR locked_until < now())';

export function toClaimed(r: QueueRow): ClaimedAttempt {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventId: r.event_id,
    eventCreatedAt: r.event_created_at,
    eventType: r.event_type,
    attempt: r.attempt,
    trigger: r.trigger,
  };
}
