import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One domain event, stored once and referenced by every attempt. Rows with no
 * `fanned_out_at` are the outbox the sweeper drains. Partitioned by
 * `created_at`, one partition per UTC day (src/database/daily-partitions.ts),
 * so the key includes it; retention drops whole days.
 */
@Entity({ name: 'webhook_events' })
@Index('idx_webhook_events_created_at', ['createdAt'])
@Index('idx_webhook_events_type_created_at', ['type', 'createdAt'])
@Index('idx_webhook_events_unfanned', ['createdAt'], { where: 'fanned_out_at IS NULL' })
// GIN (jsonb_path_ops) on webhook_event_data(payload), for searches by a field of the data (migration 1795952000000)
@Index('idx_webhook_events_data', { synchronize: false })
export class WebhookEvent {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_webhook_events' })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  type: string;

  /**
   * The event data as canonical JSON text. The `json` type keeps the text
   * exactly (unlike jsonb it also accepts \u0000), so the signed body is built
   * from it without serialising again.
   */
  @Column({ type: 'json' })
  payload: unknown;

  @PrimaryColumn({ name: 'created_at', type: 'timestamptz', default: () => 'now()', primaryKeyConstraintName: 'pk_webhook_events' })
  createdAt: Date;

  @Column({ name: 'fanned_out_at', type: 'timestamptz', nullable: true })
  fannedOutAt: Date | null;
}
