import type { Webhook } from '../../webhooks/webhook.entity';
import type { ClaimedAttempt, SendResult } from '../attempt.types';
import { nextAttemptDelayMs } from './backoff';

/**
 * When the next attempt of a failed delivery is due, or null for none:
 * retries follow the schedule for event deliveries of webhooks with retries
 * on; a test, a redelivery or a recovery is tried once; 410 Gone never
 * retries (the endpoint is gone and the webhook is disabled).
 */
export function nextRetryAt(attempt: ClaimedAttempt, webhook: Webhook, result: SendResult, schedule: number[]): Date | null {
  if (result.success || result.statusCode === 410) return null;
  if (attempt.trigger !== 'event' || !webhook.retryEnabled) return null;
  const delay = nextAttemptDelayMs(schedule, attempt.attempt, result.retryAfterMs);
  return delay === null ? null : new Date(result.finishedAt.getTime() + delay);
}
