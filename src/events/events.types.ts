/** What `EventsService.emit` returns: the stored event's identity. */
export interface RecordedEvent {
  id: string;
  type: string;
  createdAt: Date;
  /** true: an idempotent repeat; this is the event stored by the first request, nothing new was stored or sent. */
  replayed?: boolean;
  /** true: the type is deprecated (still accepted). */
  deprecated?: boolean;
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
  /** Present (true) when the event's type is deprecated. */
  deprecated?: boolean;
}

export interface EventListFilter {
  /** Only these types (one type, or every type of a category). */
  types?: string[];
  since?: Date;
  until?: Date;
  /** `data.<field>=value` filters, all of which must match. */
  data?: import('./event-search').DataFilter[];
  /** Continue after this position (keyset). */
  cursor?: import('./event-search').EventCursor;
  limit: number;
  offset: number;
  /** Count the matches (up to a cap)? */
  count: boolean;
}

export interface EventPage {
  items: EventView[];
  /** null when not counted. */
  total: number | null;
  totalCapped: boolean;
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
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
  /**
   * The same key within EVENT_IDEMPOTENCY_TTL_MS returns the first event
   * (`replayed: true`), also when the requests race on several instances; the
   * same key with another type or data is an IDEMPOTENCY_CONFLICT (409). With
   * a manager, the caller's transaction must be open (a savepoint is used).
   */
  idempotencyKey?: string;
  /** The event id, chosen by the caller (a UUID). The same id again: as for idempotencyKey. */
  id?: string;
}
