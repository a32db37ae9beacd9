import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Webhook } from '../webhooks/webhook.entity';
import { FINISHED_SQL } from './attempt-status';
import type { FinishedStatus } from './attempt-status';

/** What made an attempt: fan-out (and its retries), the test route, redeliver, recover, replay-missing, the bulk retry. */
export type AttemptTrigger = 'event' | 'test' | 'redeliver' | 'recover' | 'replay' | 'retry';
export const ATTEMPT_TRIGGERS: readonly AttemptTrigger[] = ['event', 'test', 'redeliver', 'recover', 'replay', 'retry'];

/**
 * The attempt log: one row per finished attempt (succeeded, failed or
 * cancelled), written once. Attempts still to be sent are in the queue
 * (`QueuedAttempt`); the view `webhook_attempts` shows both, as the API does.
 * Partitioned by `created_at` (when the attempt was planned), one partition
 * per UTC day, so the key includes it; retention drops whole days. Deleting a
 * webhook removes its attempts in the same transaction (AttemptStore.deleteLogOf);
 * there is no foreign key to `webhooks`, whose check cost every logged attempt
 * a lookup and a row lock (migration DropAttemptLogWebhookForeignKey).
 *
 * The code calls these rows attempts throughout; the table is `webhook_logs`
 * (and the routes `/logs`) because the ATLAS guide names them so.
 */
@Entity({ name: 'webhook_logs' })
// (webhook_id, created_at) INCLUDE (status, duration_ms, event_type, event_id): written by hand in the
// migration (TypeORM cannot express INCLUDE), for the logs list and the stats aggregates.
@Index('idx_webhook_logs_webhook_created', { synchronize: false })
// partial indexes of the rare rows (migration UnsucceededAndRedeliveryIndexes): failures per webhook and overall, attempts outside an event's retry chain
@Index('idx_webhook_logs_webhook_unsucceeded', { synchronize: false })
@Index('idx_webhook_logs_unsucceeded', { synchronize: false })
@Index('idx_webhook_logs_webhook_other_trigger', { synchronize: false })
@Index('idx_webhook_logs_created', ['createdAt'])
@Index('idx_webhook_logs_event', ['eventId'])
@Check('chk_webhook_logs_status', `status IN ${FINISHED_SQL}`)
export class Attempt {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhook_logs' })
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => Webhook, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'webhook_id' })
  webhook?: Webhook;

  /** The event (no foreign key: the event store is partitioned; retention keeps what attempts still need). */
  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  /** The event's created_at: its partition. */
  @Column({ name: 'event_created_at', type: 'timestamptz' })
  eventCreatedAt: Date;

  @Column({ name: 'event_type', type: 'varchar', length: 100 })
  eventType: string;

  @Column({ type: 'integer', default: 1 })
  attempt: number;

  @Column({ type: 'varchar', length: 16, default: 'event' })
  trigger: AttemptTrigger;

  @Column({ type: 'varchar', length: 16 })
  status: FinishedStatus;

  @Column({ type: 'boolean', nullable: true })
  success: boolean | null;

  @Column({ name: 'scheduled_at', type: 'timestamptz' })
  scheduledAt: Date;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'request_headers', type: 'json', nullable: true })
  requestHeaders: Record<string, string> | null;

  @Column({ name: 'response_headers', type: 'json', nullable: true })
  responseHeaders: Record<string, string> | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ name: 'next_retry_at', type: 'timestamptz', nullable: true })
  nextRetryAt: Date | null;

  @PrimaryColumn({ name: 'created_at', type: 'timestamptz', default: () => 'now()', primaryKeyConstraintName: 'pk_webhook_logs' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
