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
