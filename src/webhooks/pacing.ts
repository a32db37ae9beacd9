import type { Webhook } from './webhook.entity';

/** A paced webhook has a rate limit or FIFO ordering: the paced lane alone claims its attempts. */
export function isPaced(webhook: Pick<Webhook, 'rateLimit' | 'ordering'>): boolean {
  return webhook.rateLimit !== null || webhook.ordering === 'fifo';
}
