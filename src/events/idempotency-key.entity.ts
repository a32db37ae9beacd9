import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One claimed idempotency key (an `Idempotency-Key` header, or a client's own
 * event id as `id:<uuid>`). A separate table because the event store is
 * partitioned by day and a unique constraint there would have to include
 * `created_at`: the primary key here is what makes two racing requests (on any
 * instances) end with one event. Rows past `expires_at` are deleted
 * periodically (EVENT_IDEMPOTENCY_TTL_MS).
 */
@Entity({ name: 'event_idempotency_keys' })
@Index('idx_event_idempotency_keys_expires_at', ['expiresAt'])
export class EventIdempotencyKey {
  @PrimaryColumn({ type: 'varchar', length: 300, primaryKeyConstraintName: 'pk_event_idempotency_keys' })
  key: string;

  /** sha256 (hex) of the request: type, canonical data and the client's id, if any. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'event_created_at', type: 'timestamptz' })
  eventCreatedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
