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

/** Bus notification published after a webhook is created, updated or toggled (the paced lane re-reads its list). */
export const WEBHOOK_CHANGED = 'webhook.changed';

/** Bus notification published after a webhook's rate limit or ordering changed (`paced`: it has either now). */
export const WEBHOOK_PACING_CHANGED = 'webhook.pacing_changed';

export interface WebhookPacingChangedPayload {
  id: string;
  paced: boolean;
}
