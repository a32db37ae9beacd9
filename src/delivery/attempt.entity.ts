import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { WebhookEvent } from '../events/webhook-event.entity';
import { Webhook } from '../webhooks/webhook.entity';
import { ATTEMPT_STATUSES, AttemptStatus, QUEUED_SQL, Status } from './attempt-status';

export type { AttemptStatus } from './attempt-status';

export type AttemptTrigger = 'event' | 'test' | 'redeliver' | 'recover';

/**
 * One row per delivery attempt, planned or done. Pending rows are the queue.
 * Foreign keys cascade: deleting a webhook or an expired event removes its attempts.
 *
 * The code calls these rows attempts throughout; the table is `webhook_logs`
 * (and the routes `/logs`) because the ATLAS guide names them so.
 */
@Entity({ name: 'webhook_logs' })
@Index('idx_webhook_logs_due', ['scheduledAt'], { where: `status = '${Status.Pending}'` })
@Index('idx_webhook_logs_lease', ['lockedUntil'], { where: `status = '${Status.Sending}'` })
// (webhook_id, created_at) INCLUDE (status, duration_ms, event_type, event_id): written by hand in the
// StatsIndexes migration (TypeORM cannot express INCLUDE), for the logs list and the stats aggregates.
@Index('idx_webhook_logs_webhook_created', { synchronize: false })
@Index('idx_webhook_logs_webhook_queue', ['webhookId'], { where: `status IN ${QUEUED_SQL}` })
@Check('chk_webhook_logs_status', `status IN (${ATTEMPT_STATUSES.map((s) => `'${s}'`).join(', ')})`)
@Index('idx_webhook_logs_created', ['createdAt'])
@Index('idx_webhook_logs_event', ['eventId'])
@Index('uq_webhook_logs_fanout', ['eventId', 'webhookId'], { unique: true, where: "attempt = 1 AND trigger = 'event'" })
export class Attempt {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'webhook_id' })
  webhook?: Webhook;

  @ManyToOne(() => WebhookEvent, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'event_id' })
  event?: WebhookEvent;

  @Column({ name: 'event_type', type: 'varchar', length: 100 })
  eventType: string;

  @Column({ type: 'integer', default: 1 })
  attempt: number;

  @Column({ type: 'varchar', length: 16, default: 'event' })
  trigger: AttemptTrigger;

  @Column({ type: 'varchar', length: 16, default: Status.Pending })
  status: AttemptStatus;

  /** null until the attempt is done. */
  @Column({ type: 'boolean', nullable: true })
  success: boolean | null;

  @Column({ name: 'scheduled_at', type: 'timestamptz', default: () => 'now()' })
  scheduledAt: Date;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'request_headers', type: 'jsonb', nullable: true })
  requestHeaders: Record<string, string> | null;

  @Column({ name: 'response_headers', type: 'jsonb', nullable: true })
  responseHeaders: Record<string, string> | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ name: 'next_retry_at', type: 'timestamptz', nullable: true })
  nextRetryAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
