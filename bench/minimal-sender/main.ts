/**
 * The minimal durable sender: the benchmark's yardstick for the engine
 * (issue 10, "the target"). One Node process, no framework, that does the
 * durable job of a webhook sender with as little work as this machine
 * allows, so that "engine / minimal" says how much the engine spends on top
 * of what the job itself costs. Run as a child process by the benchmark
 * (bench/lib/minimal.ts), like the service: `node dist/bench/minimal-sender/main.js`
 * with DATABASE_URL, PORT, and optionally WEBHOOK_MAX_IN_FLIGHT (64),
 * WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT (8), MINIMAL_TOKEN.
 *
 * What it does, per event and per delivery, as the engine must:
 * - ingest: `POST /api/events` `{type, data}` over plain node:http; the data
 *   serialised to canonical JSON once (the signed bytes); events are
 *   group-committed: every request that arrives while the previous insert is
 *   running goes into the next one, and ONE statement inserts the events and
 *   their attempt rows (the fan-out to the subscribed webhooks). 202 only
 *   after that commit.
 * - queue: attempts are rows. New attempts go straight into memory as
 *   `sending` with a lease when there is room (at most READY_HIGH waiting in
 *   memory), otherwise as `pending`; pending rows (a backlog, retries,
 *   overflow) are claimed in batches (UPDATE … FOR UPDATE SKIP LOCKED →
 *   sending + lease). Every attempt row is committed before its request goes
 *   out (at-least-once: a crash leaves it `sending`, and when the lease
 *   expires it is pending again and sent again).
 * - send: undici Pool per origin, WEBHOOK_MAX_IN_FLIGHT requests overall and
 *   WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT per webhook (round robin between
 *   webhooks), headers signed as the engine signs them (X-ATLAS-Signature,
 *   hex HMAC-SHA256 of the body, and the Standard Webhooks base64 HMAC of
 *   "id.timestamp.body"), the response's headers (50, 1 kB each) and body
 *   (4 kB) read and kept.
 * - record: results written back in batches, one statement per batch
 *   (UPDATE … FROM json_to_recordset, plus the insert of the retry of a
 *   failed attempt). A delivery counts once its result is committed.
 *
 * What it deliberately omits (none of it is per-delivery work on the happy
 * path the benchmark measures, or it is work a yardstick must not be
 * charged for): authentication beyond comparing one static bearer token (no
 * JWT, users, roles), request validation beyond type/data shape, the SSRF
 * guard (DNS lookup filter), webhook management (webhooks are read once at
 * start-up), per-webhook settings (custom headers, timeouts, secret
 * rotation), the retry policy beyond a fixed exponential backoff of 5
 * attempts, Retry-After, disabling failing webhooks, per-webhook bookkeeping
 * (last success/failure), metrics, logs, retention, graceful handling of
 * slow endpoints beyond the per-endpoint limit, and foreign keys.
 */
import { createHmac, createSecretKey, KeyObject } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Pool as PgPool } from 'pg';
import { Dispatcher, Pool as HttpPool } from 'undici';
import { canonicalJson } from '../../src/common/canonical-json';
import { uuidv7 } from '../../src/common/uuid-v7';
import { createSchema } from './schema';

const MAX_IN_FLIGHT = Number(process.env.WEBHOOK_MAX_IN_FLIGHT ?? 64);
const PER_ENDPOINT = Number(process.env.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT ?? 8);
const TOKEN = process.env.MINIMAL_TOKEN ?? '';
const TIMEOUT_MS = 10_000;
const BODY_LIMIT = 4096;
const HEADER_LIMIT = 50;
const PAYLOAD_LIMIT = 256 * 1024;
const LEASE = '60 seconds';
const MAX_ATTEMPTS = 5;
/**
 * Attempts held in memory (waiting or in flight) before new ones wait in the
 * table as `pending` (claimed later, one more UPDATE each). A few seconds of
 * sending at the rates seen here: far below the lease, so no attempt still
 * waiting in memory is taken for a crashed one and sent twice.
 */
const READY_HIGH = 16384;
/** Claim more pending rows when fewer than this wait in memory. */
const READY_LOW = 1024;
const CLAIM_BATCH = 1024;
const INGEST_BATCH = 512;
const RESULT_BATCH = 1000;
const USER_AGENT = 'ATLAS-Webhooks/1.0';

interface Hook {
  id: string;
  path: string;
  pool: HttpPool;
  /** X-ATLAS-Signature's key: the UTF-8 bytes of the whole secret (as KeyObjects: a little cheaper per HMAC than a string). */
  atlasKey: KeyObject;
  /** The Standard Webhooks key: the base64 part of a whsec_ secret, decoded (as src/webhooks/secret.ts). */
  swKey: KeyObject;
  queue: Attempt[];
  head: number;
  inFlight: number;
}

interface EventRef {
  id: string;
  type: string;
  /** The signed body: the engine's envelope, canonical JSON. */
  body: string;
}

interface Attempt {
  id: string;
  hook: Hook;
  ev: EventRef;
  n: number;
}

/** One result row, as json_to_recordset reads it. */
interface Result {
  id: string;
  ok: boolean;
  code: number | null;
  ms: number;
  err: string | null;
  rqh: Record<string, string>;
  rsh: Record<string, string> | null;
  body: string | null;
  /** started/finished, ms since the epoch */
  st: number;
  fin: number;
  /** retry: when (ms since the epoch), its attempt number, webhook and event */
  retry: number | null;
  n: number;
  w: string;
  e: string;
}

const db = new PgPool({ connectionString: process.env.DATABASE_URL, max: 4, application_name: 'minimal-sender' });
const hooks: Hook[] = [];
const byType = new Map<string, Hook[]>();
let inFlight = 0;
/** Attempts in memory: waiting in a hook's queue or in flight. */
let held = 0;
let rr = 0;
let stopping = false;

/** Collects items and hands them to `handle` in batches: whatever arrived while the previous batch was handled (natural batching, no timer). */
class Batcher<T> {
  private items: T[] = [];
  private running = 0;
  private scheduled = false;
  constructor(
    private readonly max: number,
    private readonly concurrency: number,
    private readonly handle: (batch: T[]) => Promise<void>,
  ) {}
  push(item: T): void {
    this.items.push(item);
    this.kick();
  }
  get idle(): boolean {
    return this.running === 0 && this.items.length === 0;
  }
  private kick(): void {
    if (this.scheduled || this.running >= this.concurrency || this.items.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.running >= this.concurrency || this.items.length === 0) return;
      const batch = this.items.splice(0, this.max);
      this.running++;
      this.handle(batch)
        .catch((err: Error) => console.error(`minimal-sender: batch of ${batch.length} failed: ${err.message}`))
        .finally(() => {
          this.running--;
          this.kick();
        });
      this.kick();
    });
  }
}

// ---------------------------------------------------------------- ingest

interface Incoming {
  ev: EventRef;
  createdAt: string;
  payload: string;
  res: ServerResponse;
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function envelope(id: string, type: string, createdAt: string, payloadText: string): string {
  // the engine's buildEventBody: keys in code point order, canonical separators
  return `{"data": ${payloadText}, "event": ${canonicalJson(type)}, "id": "${id}", "timestamp": "${createdAt}"}`;
}

/** One statement per batch: the events and their attempts (the fan-out), committed together. */
const ingest = new Batcher<Incoming>(INGEST_BATCH, 2, async (batch) => {
  const direct = held < READY_HIGH; // room in memory: the attempts go out right after the commit
  const attempts: Attempt[] = [];
  let evJson = '[';
  let atJson = '[';
  for (let i = 0; i < batch.length; i++) {
    const { ev, createdAt, payload } = batch[i];
    evJson += `${i ? ',' : ''}{"id":"${ev.id}","type":${JSON.stringify(ev.type)},"payload":${payload},"created_at":"${createdAt}"}`;
    for (const hook of byType.get(ev.type) ?? []) {
      const a: Attempt = { id: uuidv7(), hook, ev, n: 1 };
      atJson += `${attempts.length ? ',' : ''}{"id":"${a.id}","w":"${hook.id}","e":"${ev.id}","t":"${createdAt}"}`;
      attempts.push(a);
    }
  }
  try {
    await db.query(
      `WITH ev AS (
         INSERT INTO minimal.events (id, type, payload, created_at)
         SELECT id, type, payload, created_at FROM json_to_recordset($1::json) AS v(id uuid, type text, payload json, created_at timestamptz))
       INSERT INTO minimal.attempts (id, webhook_id, event_id, attempt, status, scheduled_at, locked_until, created_at)
       SELECT a.id, a.w, a.e, 1, CASE WHEN $3 THEN 'sending' ELSE 'pending' END, a.t, CASE WHEN $3 THEN now() + $4::interval END, a.t
       FROM json_to_recordset($2::json) AS a(id uuid, w uuid, e uuid, t timestamptz)`,
      [evJson + ']', atJson + ']', direct, LEASE],
    );
  } catch (err) {
    for (const b of batch) reply(b.res, 500, JSON.stringify({ error: (err as Error).message }));
    return;
  }
  for (const b of batch) reply(b.res, 202, `{"id":"${b.ev.id}","type":${JSON.stringify(b.ev.type)}}`);
  if (direct) {
    for (const a of attempts) enqueue(a);
    pump();
  } else {
    pendingGeneration++;
    void claim();
  }
});

function onEmit(req: IncomingMessage, res: ServerResponse): void {
  if (TOKEN && req.headers.authorization !== `Bearer ${TOKEN}`) return reply(res, 401, '{"error":"unauthorized"}');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= PAYLOAD_LIMIT) chunks.push(c);
  });
  req.on('end', () => {
    if (size > PAYLOAD_LIMIT) return reply(res, 413, '{"error":"payload too large"}');
    let type: unknown;
    let payload: string;
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: unknown; data?: unknown };
      type = parsed.type;
      const data = parsed.data ?? {};
      if (typeof type !== 'string' || type.length === 0 || type.length > 100 || typeof data !== 'object' || data === null || Array.isArray(data))
        throw new Error('type must be a string of 1 to 100 characters and data a JSON object');
      payload = canonicalJson(data);
    } catch (err) {
      return reply(res, 400, JSON.stringify({ error: (err as Error).message }));
    }
    const id = uuidv7();
    const createdAt = new Date().toISOString();
    ingest.push({ ev: { id, type, body: envelope(id, type, createdAt, payload) }, createdAt, payload, res });
  });
}

// ---------------------------------------------------------------- queue

/** Bumped whenever attempts went into the table as pending, so a claim that found fewer than it asked for knows whether more may have come since. */
let pendingGeneration = 1;
let claimedGeneration = 0;
let claiming = false;

function enqueue(a: Attempt): void {
  a.hook.queue.push(a);
  held++;
}

/** Claims due pending attempts (a backlog, retries, overflow) while there is room in memory. */
async function claim(): Promise<void> {
  if (claiming || stopping || held >= READY_LOW || claimedGeneration === pendingGeneration) return;
  claiming = true;
  try {
    while (held < READY_LOW && !stopping) {
      const generation = pendingGeneration;
      // one round trip: the claimed attempts and the bodies of their events, as one JSON text
      const { rows } = await db.query<{ j: string | null }>(
        `WITH c AS (
           UPDATE minimal.attempts a SET status = 'sending', locked_until = now() + $2::interval
           FROM (SELECT id FROM minimal.attempts WHERE status = 'pending' AND scheduled_at <= now()
                 ORDER BY scheduled_at LIMIT $1 FOR UPDATE SKIP LOCKED) d
           WHERE a.id = d.id
           RETURNING a.id, a.webhook_id, a.event_id, a.attempt)
         SELECT json_build_object(
           'a', (SELECT json_agg(json_build_array(id, webhook_id, event_id, attempt)) FROM c),
           'e', (SELECT json_agg(json_build_array(e.id, e.type, e.payload::text, e.created_at))
                 FROM minimal.events e WHERE e.id IN (SELECT event_id FROM c)))::text AS j`,
        [CLAIM_BATCH, LEASE],
      );
      const got = JSON.parse(rows[0].j ?? '{}') as { a: Array<[string, string, string, number]> | null; e: Array<[string, string, string, string]> | null };
      const events = new Map<string, EventRef>();
      for (const [id, type, payload, created] of got.e ?? []) {
        const createdAt = new Date(created).toISOString();
        events.set(id, { id, type, body: envelope(id, type, createdAt, payload) });
      }
      const hookById = new Map(hooks.map((h) => [h.id, h]));
      for (const [id, webhookId, eventId, n] of got.a ?? []) {
        const hook = hookById.get(webhookId);
        const ev = events.get(eventId);
        if (hook && ev) enqueue({ id, hook, ev, n });
      }
      pump();
      if ((got.a?.length ?? 0) < CLAIM_BATCH) {
        claimedGeneration = generation; // nothing more was due when we looked
        if (generation === pendingGeneration) break;
      }
    }
  } catch (err) {
    console.error(`minimal-sender: claim failed: ${(err as Error).message}`);
  } finally {
    claiming = false;
  }
}

// ---------------------------------------------------------------- send

/** Starts requests, round robin between webhooks, while slots are free. */
function pump(): void {
  while (inFlight < MAX_IN_FLIGHT) {
    let started = false;
    for (let k = 0; k < hooks.length && inFlight < MAX_IN_FLIGHT; k++) {
      const h = hooks[rr];
      rr = rr + 1 === hooks.length ? 0 : rr + 1;
      if (h.inFlight >= PER_ENDPOINT || h.head === h.queue.length) continue;
      const a = h.queue[h.head++];
      if (h.head > 1024 && h.head * 2 > h.queue.length) {
        h.queue = h.queue.slice(h.head);
        h.head = 0;
      }
      started = true;
      void send(a);
    }
    if (!started) break;
  }
  if (held < READY_LOW) void claim();
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (n++ >= HEADER_LIMIT) break;
    out[k] = (Array.isArray(v) ? v.join(', ') : v).slice(0, 1024);
  }
  return out;
}

async function readCapped(body: Dispatcher.ResponseData['body'], contentLength: string | string[] | undefined): Promise<string> {
  if (typeof contentLength === 'string' && Number(contentLength) <= BODY_LIMIT) return (await body.text()).replaceAll('\u0000', '\ufffd');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(size + buf.length > BODY_LIMIT ? buf.subarray(0, BODY_LIMIT - size) : buf);
    size += buf.length;
    if (size >= BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').replaceAll('\u0000', '\ufffd');
}

async function send(a: Attempt): Promise<void> {
  const { hook, ev } = a;
  inFlight++;
  hook.inFlight++;
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-ATLAS-Event': ev.type,
    'X-ATLAS-Signature': createHmac('sha256', hook.atlasKey).update(ev.body).digest('hex'),
    'X-ATLAS-Delivery': a.id,
    'X-ATLAS-Attempt': String(a.n),
    'webhook-id': ev.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': 'v1,' + createHmac('sha256', hook.swKey).update(`${ev.id}.${timestamp}.`).update(ev.body).digest('base64'),
  };
  const st = Date.now();
  const t0 = performance.now();
  let code: number | null = null;
  let err: string | null = null;
  let rsh: Record<string, string> | null = null;
  let body: string | null = null;
  try {
    const res = await hook.pool.request({ method: 'POST', path: hook.path, headers, body: ev.body, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
    code = res.statusCode;
    rsh = flattenHeaders(res.headers);
    body = await readCapped(res.body, res.headers['content-length']);
    if (code < 200 || code >= 300) err = `HTTP ${code}`;
  } catch (e) {
    const x = e as { code?: string; message?: string };
    err = `request failed: ${x.code ? x.code + ' ' : ''}${x.message ?? String(e)}`;
  }
  const ms = Math.round(performance.now() - t0);
  const fin = Date.now();
  inFlight--;
  hook.inFlight--;
  held--;
  const ok = err === null;
  const retry = !ok && a.n < MAX_ATTEMPTS ? fin + 1000 * 4 ** (a.n - 1) : null; // 1 s, 4 s, 16 s, 64 s
  results.push({ id: a.id, ok, code, ms, err, rqh: headers, rsh, body, st, fin, retry, n: a.n, w: hook.id, e: ev.id });
  pump();
}

// ---------------------------------------------------------------- record

/** One statement per batch: every result, and the retries of failed attempts as new pending rows. */
const results = new Batcher<Result>(RESULT_BATCH, 1, async (batch) => {
  const retries = batch.some((r) => r.retry !== null);
  await db.query(
    `WITH v AS (
       SELECT * FROM json_to_recordset($1::json) AS v(id uuid, ok boolean, code int, ms int, err text, rqh json, rsh json, body text,
                                                      st double precision, fin double precision, retry double precision, n int, w uuid, e uuid)),
     u AS (
       UPDATE minimal.attempts a SET status = CASE WHEN v.ok THEN 'succeeded' ELSE 'failed' END, locked_until = NULL,
         status_code = v.code, duration_ms = v.ms, error = v.err, request_headers = v.rqh, response_headers = v.rsh, response_body = v.body,
         started_at = to_timestamp(v.st / 1000), finished_at = to_timestamp(v.fin / 1000)
       FROM v WHERE a.id = v.id AND a.status = 'sending')
     INSERT INTO minimal.attempts (id, webhook_id, event_id, attempt, status, scheduled_at)
     SELECT minimal.uuid_v7(), v.w, v.e, v.n + 1, 'pending', to_timestamp(v.retry / 1000) FROM v WHERE v.retry IS NOT NULL`,
    [JSON.stringify(batch)],
  );
  if (retries) pendingGeneration++;
});

// ---------------------------------------------------------------- process

async function main(): Promise<void> {
  const client = await db.connect();
  try {
    await createSchema(client);
    const { rows } = await client.query<{ id: string; url: string; secret: string; events: string[] }>(
      'SELECT id, url, secret, events FROM minimal.webhooks ORDER BY url, id',
    );
    const pools = new Map<string, HttpPool>();
    for (const r of rows) {
      const url = new URL(r.url);
      let pool = pools.get(url.origin);
      // as many connections as the engine's agents allow per origin (2 x the per-endpoint limit)
      if (!pool) pools.set(url.origin, (pool = new HttpPool(url.origin, { connections: PER_ENDPOINT * 2, pipelining: 1 })));
      const b64 = r.secret.startsWith('whsec_') ? Buffer.from(r.secret.slice(6), 'base64') : Buffer.alloc(0);
      const hook: Hook = {
        id: r.id,
        path: url.pathname + url.search,
        pool,
        atlasKey: createSecretKey(Buffer.from(r.secret, 'utf8')),
        swKey: createSecretKey(b64.length ? b64 : Buffer.from(r.secret, 'utf8')),
        queue: [],
        head: 0,
        inFlight: 0,
      };
      hooks.push(hook);
      for (const t of r.events) byType.set(t, [...(byType.get(t) ?? []), hook]);
    }
  } finally {
    client.release();
  }

  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/api/events') return onEmit(req, res);
    if (req.url === '/api/health') return reply(res, 200, '{"status":"ok"}');
    reply(res, 404, '{"error":"not found"}');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(Number(process.env.PORT ?? 3100), process.env.HOST ?? '127.0.0.1', r));

  // due pending rows (a backlog, retries) every second; expired leases (a crashed run) back to pending every 30 s
  const poll = setInterval(() => {
    pendingGeneration++;
    void claim();
  }, 1000);
  const recover = setInterval(() => {
    db.query(`UPDATE minimal.attempts SET status = 'pending', locked_until = NULL WHERE status = 'sending' AND locked_until < now()`).catch(() => undefined);
  }, 30_000);
  void claim();

  process.once('SIGTERM', () => {
    stopping = true;
    clearInterval(poll);
    clearInterval(recover);
    server.close();
    server.closeIdleConnections();
    const wait = setInterval(() => {
      // in-flight requests finish and their results are written; what waits in memory stays `sending` until its lease expires
      if (inFlight > 0 || !results.idle || !ingest.idle) return;
      clearInterval(wait);
      void Promise.all([db.end(), ...hooks.map((h) => h.pool.close())]).finally(() => process.exit(0));
    }, 20);
  });
}

main().catch((err: Error) => {
  console.error(`minimal-sender: ${err.stack ?? err.message}`);
  process.exit(1);
});
