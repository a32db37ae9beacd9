/**
 * An event's stored body as SQL, for a query that reads another table's rows
 * by event (the delivery queue's claim): a LATERAL subquery giving
 * `event_payload` (the canonical JSON text exactly as stored and signed) and
 * `event_at` (the event's own created_at), no row when the event is gone
 * (retention) or `when` is false. The event's creation time as the other
 * table holds it is given too, so PostgreSQL reads one day's partition,
 * pruned at run time; it is matched within a millisecond, as a copy of it
 * that went through a JavaScript Date holds it (microseconds rounded away).
 * `OFFSET 0` keeps the subquery a lookup per row (an index probe of one
 * partition): pulled up into a plain join, it was planned as a hash join
 * over a sequential scan of the day's whole partition (4–25 ms a claim with
 * 20,000 events stored, growing with the day).
 */
export const eventBodyLateralSql = (eventIdExpr: string, eventCreatedAtExpr: string, when: string): string =>
  `LATERAL (SELECT e.payload::text AS event_payload, e.created_at AS event_at FROM webhook_events e
            WHERE ${when} AND e.id = ${eventIdExpr}
              AND e.created_at > ${eventCreatedAtExpr} - interval '1 millisecond' AND e.created_at < ${eventCreatedAtExpr} + interval '1 millisecond'
            OFFSET 0)`;
