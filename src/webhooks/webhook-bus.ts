/** Bus notification published when a webhook stops being enabled (operator, 410 Gone, or too long failing). */
export const WEBHOOK_DISABLED = 'webhook.disabled';

export interface WebhookDisabledPayload {
  id: string;
  reason: string;
}

/** Bus notification published after a webhook is deleted (its attempts went with it). */
export const WEBHOOK_DELETED = 'webhook.deleted';

export interface WebhookDeletedPayload {
  id: string;
}
