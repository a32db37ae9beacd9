import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The catalogue's persisted part: types admins added (with their schema) and
 * admins' overrides of built-in types (enforcement, deprecation, a replaced
 * schema). Built-in types without a row are as the code describes them
 * (src/events/event-catalogue.ts, builtin-schemas.ts). Every instance reads
 * this table through EventTypesService's short cache.
 */
@Entity({ name: 'event_types' })
export class EventTypeRecord {
  @PrimaryColumn({ type: 'varchar', length: 100, primaryKeyConstraintName: 'pk_event_types' })
  type: string;

  /** true: an override of a built-in type; false: a type an admin added. */
  @Column({ type: 'boolean' })
  builtin: boolean;

  @Column({ type: 'varchar', length: 50 })
  category: string;

  /** null on a built-in override: the built-in description. */
  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** JSON Schema of `data`; null on a built-in override: the built-in schema. */
  @Column({ type: 'jsonb', nullable: true })
  schema: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  example: Record<string, unknown> | null;

  @Column({ type: 'boolean' })
  enforced: boolean;

  @Column({ type: 'boolean', default: false })
  deprecated: boolean;

  /** Raised on every schema change: compiled validators are cached by type and version. */
  @Column({ type: 'int', default: 1 })
  version: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
