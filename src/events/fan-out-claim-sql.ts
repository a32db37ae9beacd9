import { arrayLiteral } from '../database/array-literal';

/** The claim of events for a fan-out, as SQL with its parameters (numbered from `firstParam`). */
export interface FanOutClaim {
  /** An UPDATE … RETURNING id, type: run alone (EventsService.claimForFanOut) or as a CTE of the fan-out's insert (AttemptStore). */
  sql: string;
  params: unknown[];
}

/**
 * Marks those of `events` not fanned out yet and returns them (`id`, `type`).
 * Events another fan-out is marking right now (row locked) are left out
 * (SKIP LOCKED): an event is fanned out once. The mark commits with whatever
 * shares its transaction or statement (the fan-out's attempts), or not at
 * all. The events' time span (widened by a millisecond: JavaScript dates
 * drop PostgreSQL's microseconds) lets PostgreSQL look in their days'
 * partitions only.
 */
export function fanOutClaim(events: ReadonlyArray<{ id: string; createdAt: Date }>, firstParam = 1): FanOutClaim {
  let from = Infinity;
  let to = -Infinity;
  for (const e of events) {
    from = Math.min(from, e.createdAt.getTime());
    to = Math.max(to, e.createdAt.getTime());
  }
  const [ids, start, end] = [firstParam, firstParam + 1, firstParam + 2].map((n) => `$${n}`);
  return {
    sql: `UPDATE webhook_events SET fanned_out_at = now()
       WHERE created_at BETWEEN ${start} AND ${end} AND (id, created_at) IN (
         SELECT id, created_at FROM webhook_events
         WHERE id = ANY(${ids}::uuid[]) AND created_at BETWEEN ${start} AND ${end} AND fanned_out_at IS NULL
         FOR NO KEY UPDATE SKIP LOCKED)
       RETURNING id, type`,
    params: [arrayLiteral(events.map((e) => e.id)), new Date(from - 1), new Date(to + 1)],
  };
}
