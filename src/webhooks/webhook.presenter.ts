import { maskSecret } from './secret';
import type { WebhookDto, WebhookWithSecretDto } from './webhook.dto';
import type { Webhook } from './webhook.entity';

/** Header names whose values are credentials; viewers see them masked. */
const SENSITIVE_HEADER = /auth|token|secret|key|password|passwd|cookie|session|signature|credential/i;

export interface PresentOptions {
  /** Mask credential-looking custom header values (for viewers). */
  maskHeaders?: boolean;
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

function presentHeaders(headers: Record<string, string> | null | undefined, mask: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name] = mask && SENSITIVE_HEADER.test(name) ? maskSecret(value) : value;
  return out;
}

/** The public shape of a webhook: the secret is always masked. */
export function presentWebhook(webhook: Webhook, options: PresentOptions = {}): WebhookDto {
  return {
    id: webhook.id,
    name: webhook.name,
    description: webhook.description,
    url: webhook.url,
    events: webhook.events,
    enabled: webhook.enabled,
    filter: webhook.filter ?? null,
    retry_enabled: webhook.retryEnabled,
    timeout_ms: webhook.timeoutMs,
    rate_limit: webhook.rateLimit,
    ordering: webhook.ordering,
    headers: presentHeaders(webhook.headers, options.maskHeaders ?? false),
    secret: maskSecret(webhook.secret),
    last_error: webhook.lastError,
    last_triggered_at: iso(webhook.lastTriggeredAt),
    last_success_at: iso(webhook.lastSuccessAt),
    last_failure_at: iso(webhook.lastFailureAt),
    consecutive_failures: webhook.consecutiveFailures,
    failing_since: iso(webhook.failingSince),
    disabled_reason: webhook.disabledReason,
    created_at: webhook.createdAt.toISOString(),
    updated_at: webhook.updatedAt.toISOString(),
  };
}

/** Only for the response to the admin who created the webhook: the full secret. */
export function presentWebhookWithSecret(webhook: Webhook): WebhookWithSecretDto {
  return { ...presentWebhook(webhook), secret: webhook.secret };
}
