import type { EventBody } from './events.types';

/**
 * In-process bus notifications published by the events module
 * (@nestjs/event-emitter). Listeners must treat them as hints: the row is
 * already committed, and the sweeper fans out anything a listener missed.
 */

/** Published after an event row has been committed (not for events emitted inside a caller's transaction). */
export const EVENT_RECORDED = 'event.recorded';

export interface EventRecordedPayload {
  id: string;
  type: string;
  /** The stored body, so a listener need not read it back. */
  body: EventBody;
}
