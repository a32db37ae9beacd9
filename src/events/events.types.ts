import type { EntityManager } from 'typeorm';

/** What `EventsService.emit` returns: the stored event's identity. */
export interface RecordedEvent {
  id: string;
  type: string;
  createdAt: Date;
}

/** An event as the REST API shows it. */
export interface EventView {
  id: string;
  type: string;
  /** The payload, parsed from its stored canonical JSON text. */
  data: unknown;
  /** ISO 8601 */
  created_at: string;
  /** ISO 8601, or null while the event has not been fanned out yet. */
  fanned_out_at: string | null;
}

export interface EventListFilter {
  type?: string;
  since?: Date;
  until?: Date;
  limit: number;
  offset: number;
}

/** The stored body of an event, as the sender needs it. */
export interface EventBody {
  type: string;
  /** The canonical JSON text exactly as stored (and signed). */
  payloadText: string;
  createdAt: Date;
}

export interface EmitOptions {
  /**
   * Insert through this manager, i.e. inside the caller's transaction. Nothing
   * is published on the bus then; the sweeper fans the event out once the
   * caller has committed.
   */
  manager?: import('typeorm').EntityManager;
  /** false: store the event as already fanned out (nobody gets it by subscription). Default true. */
  fanOut?: boolean;
}

/** Where a retention pass is in the events: the last event a batch looked at. */
export interface PurgeCursor {
  /** created_at as PostgreSQL prints it (microseconds kept). */
  createdAt: string;
  id: string;
}

/** One batch of `EventsService.deleteOlderThan`. */
export interface PurgeBatch {
  /** Events looked at (locked); fewer than the batch size means the pass is over. */
  scanned: number;
  deleted: number;
  /** Pass this to the next call to go on after this batch. */
  next: PurgeCursor | null;
}

/**
 * Run inside the deleting transaction while the batch's event rows are locked
 * (nothing can add an attempt to them until it commits): returns the ids that
 * must stay.
 */
export type StillNeeded = (manager: EntityManager, ids: string[]) => Promise<Iterable<string>>;
