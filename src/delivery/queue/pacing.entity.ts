import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Webhook } from '../../webhooks/webhook.entity';

/**
 * The delivery pace of a webhook with a rate limit or FIFO ordering, shared
 * by every instance: `next_at` is the rate limit's theoretical arrival time
 * (GCRA: the moment by which the deliveries granted so far would have gone
 * out at exactly the limit). An instance claims such a webhook's attempts
 * only while holding this row's lock, so the limit and the one-in-flight
 * rule hold across instances.
 */
@Entity({ name: 'delivery_pacing' })
export class DeliveryPacing {
  @PrimaryColumn({ name: 'webhook_id', type: 'uuid', primaryKeyConstraintName: 'pk_delivery_pacing' })
  webhookId: string;

  @ManyToOne(() => Webhook, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'fk_delivery_pacing_webhook' })
  webhook?: Webhook;

  @Column({ name: 'next_at', type: 'timestamptz', default: () => 'now()' })
  nextAt: Date;
}
