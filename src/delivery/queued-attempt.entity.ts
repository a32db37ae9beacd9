import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Webhook } from '../webhooks/webhook.entity';
import type { AttemptTrigger } from './attempt.entity';

/**
 * The delivery queue: attempts still to be sent. Pending while
 * `locked_until` is empty or past, sending while an instance holds the lease.
 * Narrow and kept small (a row leaves for the log when its attempt ends), with
 * three indexes, none on the lease: a claim only sets `locked_until` and
 * `started_at`, which PostgreSQL can do as a HOT update (fillfactor 45 leaves
 * the room on the page). Ids are time-ordered UUIDs (`atlas_uuid_v7()`,
 * migration TimeOrderedAttemptIds): the attempt keeps its id in the log.
 */
@Entity({ name: 'delivery_queue' })
@Index('idx_delivery_queue_due', ['scheduledAt'])
@Index('idx_delivery_queue_webhook_created', ['webhookId', 'createdAt'])
export class QueuedAttempt {
  @PrimaryColumn({ type: 'uuid', default: () => 'atlas_uuid_v7()', primaryKeyConstraintName: 'pk_delivery_queue' })
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'fk_delivery_queue_webhook' })
  webhook?: Webhook;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'event_created_at', type: 'timestamptz' })
  eventCreatedAt: Date;

  @Column({ name: 'event_type', type: 'varchar', length: 100 })
  eventType: string;

  @Column({ type: 'integer', default: 1 })
  attempt: number;

  @Column({ type: 'varchar', length: 16, default: 'event' })
  trigger: AttemptTrigger;

  @Column({ name: 'scheduled_at', type: 'timestamptz', default: () => 'now()' })
  scheduledAt: Date;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  /** Its webhook has a rate limit or FIFO ordering: only the paced lane claims it (the claim loop skips it). */
  @Column({ type: 'boolean', default: false })
  paced: boolean;
}
