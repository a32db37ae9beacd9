/**
 * The event store for the reads scenario's event searches: tops
 * webhook_events up to `total` events (1,000,000 at full scale; the reads
 * seed already put 250,000 there), generated in PostgreSQL, with payloads
 * that vary the way searches care about:
 *  - `service`: one of 20 names (a common value: 1 event in 20),
 *  - `node`: one of 50 within each type (the type is `g` modulo the types,
 *    so the node counts the events of one type: `g % 50` gave the 25 types'
 *    first, service.started, only node-0 and node-25, and the type + node
 *    search found nothing for 48 of its 50 values), `domain`: one of 1,000
 *    (a middling value),
 *  - `request_id`: unique (a rare value: one event),
 * over all catalogue types, created over the last 30 days in time order.
 * The GIN index on the data is dropped for the load and built again from its
 * own definition afterwards (as bulk loads are done), so the schema ends up
 * as the migrations made it.
 */
import type { Client } from 'pg';
import { EVENT_TYPES } from '../../src/events/event-catalogue';
import { encodeCursor } from '../../src/events/event-search';

export const SEARCH_SERVICES = Array.from({ length: 20 }, (_, i) => (i === 0 ? 'nginx' : `svc${i}`));
const SEARCH_TYPES = EVENT_TYPES.filter((t) => t !== 'webhook.test');

export interface SeededEvents {
  events: number;
  added: number;
  seconds_insert: number;
  seconds_index: number;
  /** Cursors 90% deep into two searches, for the deep-page requests. */
  deep_cursor_type: string;
  deep_cursor_data: string;
  /** How many events the searches' values match. */
  matches: Record<string, number>;
}

export async function seedEvents(db: Client, total: number): Promise<SeededEvents> {
  const [{ n: existing }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events`)).rows;
  const add = Math.max(0, total - existing);
  const { rows: indexes } = await db.query<{ def: string }>(
    `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'webhook_events' AND indexname = 'idx_webhook_events_data'`,
  );
  await db.query(`SET maintenance_work_mem = '256MB'`);
  await db.query(`DROP INDEX IF EXISTS idx_webhook_events_data`);
  const t0 = performance.now();
  await db.query(
    `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
     SELECT gen_random_uuid(), ($1::text[])[1 + g % cardinality($1::text[])],
            json_build_object('service', ($2::text[])[1 + (g / 7) % cardinality($2::text[])], 'node', 'node-' || ((g / cardinality($1::text[])) % 50),
                              'domain', 'd' || (g % 1000) || '.example.com', 'request_id', 'req-' || g, 'seq', g)::json,
            ts, ts
     FROM (SELECT g, now() - interval '1 hour' - (($3::int - g)::float8 / $3::int) * interval '29 days 22 hours' AS ts
           FROM generate_series(1, $3::int) g) s`,
    [SEARCH_TYPES, SEARCH_SERVICES, add],
  );
  const t1 = performance.now();
  for (const index of indexes) await db.query(index.def.replace(' ON ONLY ', ' ON '));
  await db.query(`RESET maintenance_work_mem`);
  await db.query('VACUUM (ANALYZE) webhook_events');
  const t2 = performance.now();
  const cursorAt = async (where: string, params: unknown[], depth: number): Promise<string> => {
    const { rows } = await db.query<{ at: string; id: string }>(
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, id FROM webhook_events WHERE ${where}
       ORDER BY created_at DESC, id DESC OFFSET $${params.length + 1} LIMIT 1`,
      [...params, depth],
    );
    return encodeCursor(rows[0]);
  };
  const count = async (where: string, params: unknown[]): Promise<number> =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events WHERE ${where}`, params)).rows[0].n;
  const typeMatches = await count(`type = $1`, ['service.started']);
  const nginx = `webhook_event_data(payload) @> '{"service": "nginx"}'::jsonb`;
  const nginxMatches = await count(nginx, []);
  return {
    events: existing + add,
    added: add,
    seconds_insert: Math.round((t1 - t0) / 100) / 10,
    seconds_index: Math.round((t2 - t1) / 100) / 10,
    deep_cursor_type: await cursorAt(`type = $1`, ['service.started'], Math.floor(typeMatches * 0.9)),
    deep_cursor_data: await cursorAt(nginx, [], Math.floor(nginxMatches * 0.9)),
    matches: {
      'type=service.started': typeMatches,
      'data.service=nginx': nginxMatches,
      'data.domain=d17.example.com': await count(`webhook_event_data(payload) @> '{"domain": "d17.example.com"}'::jsonb`, []),
      'type=service.started&data.node=node-7': await count(`type = 'service.started' AND webhook_event_data(payload) @> '{"node": "node-7"}'::jsonb`, []),
    },
  };
}
