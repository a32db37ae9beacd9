import type { EventBody } from '../events/events.types';
import type { Webhook } from '../webhooks/webhook.entity';
import type { AttemptTrigger } from './attempt.entity';

/** An attempt this instance has claimed (leased in the queue) and will send. */
export interface ClaimedAttempt {
  id: string;
  webhookId: string;
  eventId: string;
  /** The event's created_at (its partition). */
  eventCreatedAt: Date;
  eventType: string;
  attempt: number;
  trigger: AttemptTrigger;
}

/** What one HTTP attempt produced. */
export interface SendResult {
  success: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  /** From Retry-After on 429/503, in ms. */
  retryAfterMs: number | null;
  startedAt: Date;
  finishedAt: Date;
}

/** A finished attempt, with the follow-up attempt when one is due. */
export interface AttemptOutcome {
  attempt: ClaimedAttempt;
  result: SendResult;
  /** The next attempt's time, when a retry is scheduled. */
  nextRetryAt: Date | null;
}

/** An attempt with everything needed to send it. */
export interface PreparedAttempt {
  attempt: ClaimedAttempt;
  webhook: Webhook;
  event: EventBody;
  /** The canonical body (built once per event, shared by its attempts). */
  body: string;
}
