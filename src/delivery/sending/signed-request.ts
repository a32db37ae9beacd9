import type { Webhook } from '../../webhooks/webhook.entity';
import type { WebhooksService } from '../../webhooks/webhooks.service';
import type { ClaimedAttempt } from '../attempt.types';
import { maskRecordedHeaders } from './recorded-headers';
import { signDelivery } from './signature';

export interface SignedRequest {
  headers: Record<string, string>;
  /** What the attempt's log keeps of them (custom header values masked). */
  recorded: Record<string, string>;
}

/**
 * The headers of one attempt: the webhook's custom headers, then the
 * signatures, which they cannot override. Without custom headers (the usual
 * case) the signed headers are sent and recorded as they are: one object,
 * no copies.
 */
export function signedRequest(attempt: ClaimedAttempt, webhook: Webhook, body: string, secrets: ReturnType<WebhooksService['signingSecrets']>): SignedRequest {
  const signed = signDelivery({
    secret: secrets.secret,
    previousSecret: secrets.previousSecret,
    eventId: attempt.eventId,
    eventType: attempt.eventType,
    deliveryId: attempt.id,
    attempt: attempt.attempt,
    timestampSeconds: Math.floor(Date.now() / 1000),
    body,
  });
  if (!hasAny(webhook.headers)) return { headers: signed, recorded: signed };
  const headers = { ...webhook.headers, ...signed };
  return { headers, recorded: maskRecordedHeaders(headers) };
}

function hasAny(headers: Record<string, string> | null | undefined): boolean {
  for (const _ in headers ?? {}) return true;
  return false;
}
