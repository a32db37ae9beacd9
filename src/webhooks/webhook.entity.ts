import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { PayloadFilter } from './payload-filter';

export const WEBHOOK_ORDERINGS = ['none', 'fifo'] as const;
export type WebhookOrdering = (typeof WEBHOOK_ORDERINGS)[number];

@Entity({ name: 'webhooks' })
// GIN index on the subscriptions of enabled webhooks (written by hand in the migration).
@Index('idx_webhooks_events_enabled', { synchronize: false })
@Index('idx_webhooks_created_at', ['createdAt'])
// The paced webhooks (rate limit or FIFO), which every instance re-reads each second.
@Index('idx_webhooks_paced', ['id'], { where: `rate_limit IS NOT NULL OR ordering <> 'none'` })
@Check('chk_webhooks_rate_limit', 'rate_limit IS NULL OR rate_limit > 0')
@Check('chk_webhooks_ordering', `ordering IN ('none', 'fifo')`)
export class Webhook {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ type: 'varchar', length: 255 })
  secret: string;

  @Column({ name: 'previous_secret', type: 'varchar', length: 255, nullable: true })
  previousSecret: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  /** Subscriptions: catalogue types, category wildcards (`service.*`) or `*`. */
  @Column({ type: 'text', array: true })
  events: string[];

  /** Payload filter (src/webhooks/payload-filter.ts); null: every event of the subscribed types. */
  @Column({ type: 'jsonb', nullable: true })
  filter: PayloadFilter | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'retry_enabled', type: 'boolean', default: true })
  retryEnabled: boolean;

  @Column({ name: 'timeout_ms', type: 'integer', default: 10000 })
  timeoutMs: number;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers: Record<string, string>;

  /** Most deliveries per second to this endpoint, across all instances (null: no limit). */
  @Column({ name: 'rate_limit', type: 'integer', nullable: true })
  rateLimit: number | null;

  /** `fifo`: one attempt in flight, events in the order they were recorded; `none`: in parallel. */
  @Column({ type: 'varchar', length: 8, default: 'none' })
  ordering: WebhookOrdering;

  @Column({ name: 'last_triggered_at', type: 'timestamptz', nullable: true })
  lastTriggeredAt: Date | null;

  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;

  @Column({ name: 'last_failure_at', type: 'timestamptz', nullable: true })
  lastFailureAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;

  /** Start of the current run of failures (null after a success). */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
