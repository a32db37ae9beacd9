import { EventEmitter2 } from '@nestjs/event-emitter';
import { execFileSync } from 'node:child_process';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../../src/common/canonical-json';
import { EVENT_RECORDED, EventRecordedPayload } from '../../src/events/event-bus';
import { describeCatalogue, EVENT_TYPES } from '../../src/events/event-catalogue';
import { Sweeper } from '../../src/delivery/queue/sweeper';
import { EventsService } from '../../src/events/events.service';
import { partitionName, utcDay } from '../../src/database/daily-partitions';
import { eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

const MAX_PAYLOAD = 2048;

/** Python's json.dumps(json.loads(text), sort_keys=True): what ATLAS verifiers compute. */
function pythonCanonical(text: string): string {
  return execFileSync('python3', ['-c', 'import sys, json; sys.stdout.write(json.dumps(json.loads(sys.stdin.read()), sort_keys=True))'], {
    input: text,
    encoding: 'utf8',
  });
}

describe('Events API (e2e)', () => {
  let t: TestApp;
  let admin: string;
  let viewer: string;
  let db: DataSource;
  let events: EventsService;
  let bus: EventEmitter2;
  const recorded: EventRecordedPayload[] = [];
  const onRecorded = (p: EventRecordedPayload) => recorded.push(p);

  const storedText = async (id: string): Promise<string | undefined> => {
    const rows = await db.query<Array<{ payload: string }>>(`SELECT payload::text AS payload FROM webhook_events WHERE id = $1`, [id]);
    return rows[0]?.payload;
  };
  const storedRow = async (id: string) =>
    (
      await db.query<Array<{ id: string; type: string; created_at: Date; fanned_out_at: Date | null }>>(
        `SELECT id, type, created_at, fanned_out_at FROM webhook_events WHERE id = $1`,
        [id],
      )
    )[0];
  const post = (body: object, token = admin) => t.http().post('/api/events').set('Authorization', `Bearer ${token}`).send(body);
  const get = (query: string, token = admin) => t.http().get(`/api/events${query}`).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    t = await createTestApp({ WEBHOOK_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD) });
    admin = await t.login();
    await t
      .http()
      .post('/api/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: 'reader', password: 'reader-pass-1', role: 'viewer' })
      .expect(201);
    viewer = await t.login('reader', 'reader-pass-1');
    db = t.app.get(DataSource);
    events = t.app.get(EventsService);
    bus = t.app.get(EventEmitter2);
    bus.on(EVENT_RECORDED, onRecorded);
  });
  afterAll(async () => {
    bus?.off(EVENT_RECORDED, onRecorded);
    await t?.close();
  });

  describe('GET /api/events/types', () => {
    it('lists the whole catalogue to any signed-in user', async () => {
      const res = await get('/types', viewer).expect(200);
      expect(
        res.body.map((e: { type: string; category: string; description: string }) => ({ type: e.type, category: e.category, description: e.description })),
      ).toEqual(describeCatalogue());
      expect(res.body.map((e: { type: string }) => e.type)).toEqual(
        expect.arrayContaining(['service.started', 'domain.cert_expiring', 'system.error', 'webhook.test']),
      );
      expect(res.body[0]).toEqual({
        type: 'service.started',
        category: 'service',
        description: expect.any(String),
        schema: expect.objectContaining({ type: 'object', required: ['service'] }),
        example: expect.objectContaining({ service: 'nginx' }),
        enforced: false,
        deprecated: false,
        builtin: true,
        version: 1,
      });
    });

    it('needs a token', async () => {
      await t.http().get('/api/events/types').expect(401);
    });
  });

  describe('POST /api/events', () => {
    it('answers 202 {id, type} and stores the canonical payload text', async () => {
      const data = { service_id: 'svc-1', name: 'nginx', port: 8080, tags: ['a', 'b'], meta: { z: 1, a: 2.5, m: null, t: true } };
      const res = await post({ type: 'service.started', data }).expect(202);
      expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: 'service.started' });
      const text = await storedText(res.body.id);
      expect(text).toBe(canonicalJson(data));
      expect(text).toBe('{"meta": {"a": 2.5, "m": null, "t": true, "z": 1}, "name": "nginx", "port": 8080, "service_id": "svc-1", "tags": ["a", "b"]}');
      expect((await storedRow(res.body.id)).type).toBe('service.started');
    });

    it('round-trips non-ASCII, emoji and control characters byte for byte as Python would write them', async () => {
      const data = {
        name: '测试 Webhook',
        emoji: '🎉 party 👩‍💻',
        control: 'nul\u0000 bell\u0007 esc\u001b del\u007f nl\n tab\t cr\r',
        quotes: 'say "hi" \\ back',
        ключ: 'значение',
        '\u{1F600}': 'key above U+FFFF',
        numbers: [0, -1, 1.5, 1e21, 1e-7, 123456789012, 0.1],
        nested: { b: [{ y: 1, x: 2 }], a: {} },
      };
      const res = await post({ type: 'user.created', data }).expect(202);
      const text = await storedText(res.body.id);
      expect(text).toBe(canonicalJson(data));
      expect(text).toMatch(/^[\x20-\x7e]+$/); // ensure_ascii
      expect(pythonCanonical(text!)).toBe(text);
      const listed = await get('?type=user.created').expect(200);
      const item = listed.body.items.find((e: { id: string }) => e.id === res.body.id);
      expect(item.data).toEqual(data);
    });

    it('keeps keys that are special in JavaScript (__proto__, constructor) as plain data', async () => {
      const data = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c", "toString": 1}') as Record<string, unknown>;
      const res = await post({ type: 'system.error', data }).expect(202);
      expect(await storedText(res.body.id)).toBe('{"__proto__": {"polluted": true}, "constructor": "c", "toString": 1}');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('stores {} when data is omitted', async () => {
      const res = await post({ type: 'system.error' }).expect(202);
      expect(await storedText(res.body.id)).toBe('{}');
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'text'],
      ['a number', 5],
      ['null', null],
    ])('rejects data that is %s with 400', async (_name, data) => {
      const before = await db.query(`SELECT count(*)::int AS n FROM webhook_events`);
      const res = await post({ type: 'system.error', data }).expect(400);
      expect(res.body.message).toMatch(/data must be a JSON object/);
      expect(await db.query(`SELECT count(*)::int AS n FROM webhook_events`)).toEqual(before);
    });

    it('accepts data of exactly WEBHOOK_MAX_PAYLOAD_BYTES and answers 413 one byte over', async () => {
      // {"s": "xxx…"} is the string plus 9 bytes
      const fits = { s: 'x'.repeat(MAX_PAYLOAD - 9) };
      expect(Buffer.byteLength(canonicalJson(fits))).toBe(MAX_PAYLOAD);
      await post({ type: 'backup.created', data: fits }).expect(202);

      const over = { s: 'x'.repeat(MAX_PAYLOAD - 8) };
      const res = await post({ type: 'backup.created', data: over }).expect(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(res.body.message).toContain(`limit of ${MAX_PAYLOAD} bytes`);
      const rows = await db.query(`SELECT 1 FROM webhook_events WHERE payload::text = $1`, [canonicalJson(over)]);
      expect(rows).toHaveLength(0);
    });

    it('measures the limit on the canonical (escaped) text', async () => {
      // 400 Chinese characters are 1200 bytes of UTF-8 but 2400 bytes as \uXXXX escapes
      const res = await post({ type: 'backup.created', data: { s: '测'.repeat(400) } }).expect(413);
      expect(res.body.message).toContain('2409 bytes');
    });

    it('rejects an unknown type with 400 listing the valid types', async () => {
      const res = await post({ type: 'service.exploded', data: {} }).expect(400);
      expect(res.body.code).toBe('UNKNOWN_EVENT_TYPE');
      expect(res.body.message).toContain('service.exploded');
      for (const type of EVENT_TYPES) expect(res.body.message).toContain(type);
    });

    it('rejects a missing type', async () => {
      const res = await post({ data: {} }).expect(400);
      expect(res.body.message).toMatch(/type/);
    });

    it('rejects webhook.test: it is reserved for the test route', async () => {
      const res = await post({ type: 'webhook.test', data: {} }).expect(400);
      expect(res.body.message).toContain('POST /api/webhooks/{id}/test');
    });

    it('rejects unknown fields', async () => {
      const res = await post({ type: 'system.error', data: {}, priority: 'high' }).expect(400);
      expect(res.body.message).toMatch(/priority/);
    });

    it('is for admins only', async () => {
      const res = await post({ type: 'system.error', data: {} }, viewer).expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
      await t.http().post('/api/events').send({ type: 'system.error', data: {} }).expect(401);
    });

    it('publishes event.recorded after the insert', async () => {
      const res = await post({ type: 'domain.created', data: { domain: 'example.com' } }).expect(202);
      expect(recorded).toContainEqual(expect.objectContaining({ id: res.body.id, type: 'domain.created' }));
    });
  });

  describe('GET /api/events', () => {
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      // three events of their own type with distinct, known creation times
      for (const [name, age] of [
        ['old', '3 days'],
        ['mid', '2 days'],
        ['new', '1 day'],
      ]) {
        const res = await post({ type: 'user.quota_exceeded', data: { name } }).expect(202);
        ids[name] = res.body.id;
        await db.query(`UPDATE webhook_events SET created_at = now() - $2::interval WHERE id = $1`, [res.body.id, age]);
      }
    });

    it('lists newest first with total, limit and offset, to viewers too', async () => {
      const res = await get('?type=user.quota_exceeded', viewer).expect(200);
      expect(res.body).toMatchObject({ total: 3, limit: 50, offset: 0 });
      expect(res.body.items.map((e: { id: string }) => e.id)).toEqual([ids.new, ids.mid, ids.old]);
      const { fanned_out_at: fannedOutAt, ...rest } = res.body.items[0];
      expect(rest).toEqual({
        id: ids.new,
        type: 'user.quota_exceeded',
        data: { name: 'new' },
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      // fanned out by the delivery module right after the insert (or still pending)
      expect(fannedOutAt === null || /^\d{4}-\d\d-\d\dT.*Z$/.test(fannedOutAt)).toBe(true);
    });

    it('paginates', async () => {
      const page = await get('?type=user.quota_exceeded&limit=2&offset=1').expect(200);
      expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 1 });
      expect(page.body.items.map((e: { id: string }) => e.id)).toEqual([ids.mid, ids.old]);
      const beyond = await get('?type=user.quota_exceeded&offset=10').expect(200);
      expect(beyond.body).toMatchObject({ items: [], total: 3 });
    });

    it('filters by since and until', async () => {
      const since = new Date(Date.now() - 2.5 * 86400_000).toISOString();
      const until = new Date(Date.now() - 1.5 * 86400_000).toISOString();
      const res = await get(`?type=user.quota_exceeded&since=${since}&until=${until}`).expect(200);
      expect(res.body.items.map((e: { id: string }) => e.id)).toEqual([ids.mid]);
      expect(res.body.total).toBe(1);
      const recent = await get(`?since=${encodeURIComponent(new Date(Date.now() - 1.5 * 86400_000).toISOString())}&type=user.quota_exceeded`).expect(200);
      expect(recent.body.items.map((e: { id: string }) => e.id)).toEqual([ids.new]);
    });

    it('since is inclusive and until exclusive, as on the logs routes', async () => {
      // a creation time the API shows exactly (PostgreSQL keeps microseconds, ISO 8601 here milliseconds)
      await db.query(`UPDATE webhook_events SET created_at = date_trunc('milliseconds', created_at) WHERE id = $1`, [ids.mid]);
      const [mid] = (await get('?type=user.quota_exceeded&limit=2&offset=1').expect(200)).body.items as Array<{ id: string; created_at: string }>;
      expect(mid.id).toBe(ids.mid);
      const at = encodeURIComponent(mid.created_at);
      const justAfter = encodeURIComponent(new Date(new Date(mid.created_at).getTime() + 1).toISOString());
      const idsOf = async (query: string) =>
        ((await get(`?type=user.quota_exceeded&${query}`).expect(200)).body.items as Array<{ id: string }>).map((e) => e.id);
      expect(await idsOf(`since=${at}`)).toEqual([ids.new, ids.mid]);
      expect(await idsOf(`until=${at}`)).toEqual([ids.old]);
      expect(await idsOf(`until=${justAfter}`)).toEqual([ids.mid, ids.old]);
      expect(await idsOf(`since=${at}&until=${justAfter}`)).toEqual([ids.mid]);
      expect(await idsOf(`since=${at}&until=${at}`)).toEqual([]); // an empty window, not an error
    });

    it('counts every type without a type filter', async () => {
      const res = await get('?limit=500').expect(200);
      const n = (await db.query(`SELECT count(*)::int AS n FROM webhook_events`))[0].n;
      expect(res.body.total).toBe(n);
      expect(res.body.items).toHaveLength(Math.min(n, 500));
    });

    it.each([
      ['limit=0', /limit/],
      ['limit=501', /limit/],
      ['limit=abc', /limit/],
      ['offset=-1', /offset/],
      ['since=yesterday', /since must be an ISO 8601 timestamp/],
      ['until=2026-13-45T00:00:00Z', /until must be an ISO 8601 timestamp/],
      ['type=service.exploded', /service\.exploded/],
      ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', /since must not be later than until/],
      ['colour=blue', /colour/],
    ])('answers %s with 400', async (query, message) => {
      const res = await get(`?${query}`).expect(400);
      expect(res.body.message).toMatch(message);
    });
  });

  it('documents its routes under the Events tag in Swagger,', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { tags: string[]; responses: Record<string, unknown> }>>;
    };
    const routes: Array<[string, string, string[]]> = [
      ['/api/events/types', 'get', ['200', '401']],
      ['/api/events', 'post', ['202', '400', '401', '403', '413']],
      ['/api/events', 'get', ['200', '400', '401']],
    ];
    for (const [path, method, statuses] of routes) {
      const op = doc.paths[path]?.[method];
      expect([path, method, op?.tags]).toEqual([path, method, ['Events']]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(statuses));
    }
  });

  describe('EventsService', () => {
    it('emit inside a rolled-back transaction leaves no row', async () => {
      let id = '';
      await expect(
        db.transaction(async (m) => {
          id = (await events.emit('backup.restored', { n: 1 }, { manager: m })).id;
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(id).not.toBe('');
      expect(await storedRow(id)).toBeUndefined();
      expect(recorded.some((p) => p.id === id)).toBe(false);
    });

    it('emit inside a committed transaction stores the row unfanned and does not publish', async () => {
      const data = { backup: 'b-1', size: 1024 };
      const ev = await db.transaction((m) => events.emit('backup.restored', data, { manager: m }));
      const row = await storedRow(ev.id);
      expect(row).toMatchObject({ id: ev.id, type: 'backup.restored', fanned_out_at: null });
      expect(row.created_at.getTime()).toBe(ev.createdAt.getTime());
      expect(await storedText(ev.id)).toBe(canonicalJson(data));
      expect(recorded.some((p) => p.id === ev.id)).toBe(false);
    });

    it('emit without a manager publishes event.recorded once the row is committed', async () => {
      let seenRow: unknown = 'not called';
      const check = (p: EventRecordedPayload) => {
        // look from another connection: the row must already be visible
        void storedRow(p.id).then((r) => (seenRow = r));
      };
      bus.on(EVENT_RECORDED, check);
      try {
        const ev = await events.emit('service.created', { id: 's' });
        expect(recorded).toContainEqual({
          id: ev.id,
          type: 'service.created',
          body: { type: 'service.created', payloadText: '{"id": "s"}', createdAt: ev.createdAt },
        });
        await eventually(() => seenRow !== 'not called');
        expect(seenRow).toMatchObject({ id: ev.id });
      } finally {
        bus.off(EVENT_RECORDED, check);
      }
    });

    it('emit with fanOut: false stores the event as fanned out and does not publish', async () => {
      const ev = await events.emit('webhook.test', { test: true }, { fanOut: false });
      expect((await storedRow(ev.id)).fanned_out_at).toBeInstanceOf(Date);
      expect(recorded.some((p) => p.id === ev.id)).toBe(false);
    });

    it('emit validates type, data and size', async () => {
      await expect(events.emit('nope.nope', {})).rejects.toMatchObject({ code: 'UNKNOWN_EVENT_TYPE' });
      await expect(events.emit('system.error', () => 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(events.emit('system.error', cyclic)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(events.emit('system.error', { s: 'x'.repeat(MAX_PAYLOAD) })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      const ev = await events.emit('system.error', undefined);
      expect(await storedText(ev.id)).toBe('{}');
      const arr = await events.emit('system.error', [1, 'two', null]);
      expect(await storedText(arr.id)).toBe('[1, "two", null]');
    });

    it('findById returns the parsed event or null', async () => {
      const ev = await events.emit('domain.cert_issued', { domain: 'a.example' }, { fanOut: false });
      const view = await events.findById(ev.id);
      expect(view).toEqual({
        id: ev.id,
        type: 'domain.cert_issued',
        data: { domain: 'a.example' },
        created_at: ev.createdAt.toISOString(),
        fanned_out_at: expect.any(String),
      });
      expect(await events.findById('00000000-0000-4000-8000-000000000000')).toBeNull();
      expect(await events.findById('not-a-uuid')).toBeNull();
    });

    it('bodiesFor reads several stored bodies in one call', async () => {
      const a = await events.emit('user.enabled', { u: 'a', list: [3, 2, 1] }, { fanOut: false });
      const b = await events.emit('user.disabled', { u: 'b' }, { fanOut: false });
      const bodies = await events.bodiesFor([a.id, b.id, a.id, '00000000-0000-4000-8000-000000000000']);
      expect(bodies.size).toBe(2);
      expect(bodies.get(a.id)).toEqual({ type: 'user.enabled', payloadText: '{"list": [3, 2, 1], "u": "a"}', createdAt: a.createdAt });
      expect(bodies.get(b.id)?.payloadText).toBe('{"u": "b"}');
      expect((await events.bodiesFor([])).size).toBe(0);
    });

    it('claims an unfanned event once (SKIP LOCKED), marks it fanned out and lists the outbox oldest first', async () => {
      // This app's sweeper would fan the outbox out under the test: it stops here (the tests after this one need none).
      await t.app.get(Sweeper).stop();
      const older = (await events.emit('system.resource_alert', { n: 1 }, { manager: db.manager })).id;
      const newer = (await events.emit('system.resource_alert', { n: 2 }, { manager: db.manager })).id;
      expect(await events.findUnfannedIds(1000, 60_000)).not.toContain(older); // not a minute old
      await db.query(`UPDATE webhook_events SET created_at = now() - interval '20 seconds' WHERE id = $1`, [older]);
      await db.query(`UPDATE webhook_events SET created_at = now() - interval '10 seconds' WHERE id = $1`, [newer]);
      const outbox = await events.findUnfannedIds(1000, 5_000);
      expect(outbox).toEqual(expect.arrayContaining([older, newer]));
      expect(outbox.indexOf(older)).toBeLessThan(outbox.indexOf(newer));
      const old15 = await events.findUnfannedIds(1000, 15_000);
      expect(old15).toContain(older);
      expect(old15).not.toContain(newer);

      // the fan-out's claim, on its own in a transaction (the fan-out inserts the attempts in the same one);
      // it takes the events' times as JavaScript has them (milliseconds; PostgreSQL keeps microseconds)
      const kOlder = { id: older, createdAt: (await storedRow(older)).created_at };
      const kNewer = { id: newer, createdAt: (await storedRow(newer)).created_at };
      const holder = db.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      try {
        // as another instance's fan-out holds them while it marks them: this one skips them instead of waiting
        await holder.query(`SELECT 1 FROM webhook_events WHERE id = ANY($1::uuid[]) FOR NO KEY UPDATE`, [[older, newer]]);
        expect(await db.transaction((m) => events.claimForFanOut(m, [kOlder, kNewer]))).toEqual([]);
        // the lock holder claims one, which marks it fanned out
        expect(await events.claimForFanOut(holder.manager, [kOlder])).toEqual([{ id: older, type: 'system.resource_alert' }]);
        await holder.commitTransaction();
      } finally {
        if (holder.isTransactionActive) await holder.rollbackTransaction();
        await holder.release();
      }
      expect((await storedRow(older)).fanned_out_at).toBeInstanceOf(Date);
      expect(await db.transaction((m) => events.claimForFanOut(m, [kOlder]))).toEqual([]);
      expect(await events.findUnfannedIds(1000, 0)).not.toContain(older);

      // a claim rolled back with its transaction (the attempts' insert failed) leaves the event to the sweeper
      await expect(
        db.transaction(async (m) => {
          expect(await events.claimForFanOut(m, [kNewer])).toEqual([{ id: newer, type: 'system.resource_alert' }]);
          throw new Error('insert failed');
        }),
      ).rejects.toThrow('insert failed');
      expect(await events.findUnfannedIds(1000, 0)).toContain(newer);

      // an attempt being inserted for an event (its key-share lock) does not hold the claim up
      const inserting = db.createQueryRunner();
      await inserting.connect();
      await inserting.startTransaction();
      try {
        await inserting.query(`SELECT 1 FROM webhook_events WHERE id = $1 FOR KEY SHARE`, [newer]);
        expect(await db.transaction((m) => events.claimForFanOut(m, [kNewer]))).toEqual([{ id: newer, type: 'system.resource_alert' }]);
      } finally {
        await inserting.rollbackTransaction();
        await inserting.release();
      }
      await expect(db.transaction((m) => events.claimForFanOut(m, []))).resolves.toEqual([]);
    });

    it('dropOlderThan drops whole days before the cutoff, keeps the day of an event not fanned out yet, and clears the default partition', async () => {
      const DAY = 86_400_000;
      const dayA = utcDay(new Date(Date.now() - 50 * DAY));
      const dayB = utcDay(new Date(Date.now() - 45 * DAY));
      await events.ensurePartitions(dayA, 1);
      await events.ensurePartitions(dayB, 1);
      const insert = async (at: Date, fanned: boolean) =>
        (
          await db.query<Array<{ id: string }>>(
            `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at) VALUES (gen_random_uuid(), 'backup.deleted', '{}', $1, $2) RETURNING id`,
            [at, fanned ? at : null],
          )
        )[0].id;
      const a = await insert(new Date(dayA.getTime() + 3_600_000), true);
      const b = await insert(new Date(dayB.getTime() + 3_600_000), false); // never fanned out: its day stays
      const ancient = await insert(new Date('2000-01-01T00:00:00Z'), true); // no partition for it: the default one
      const partitionOf = async (id: string) =>
        (await db.query<Array<{ p: string }>>(`SELECT tableoid::regclass::text AS p FROM webhook_events WHERE id = $1`, [id]))[0]?.p;
      expect(await partitionOf(a)).toBe(partitionName('webhook_events', dayA));
      expect(await partitionOf(ancient)).toBe('webhook_events_default');

      const cutoff = new Date(Date.now() - 30 * DAY);
      const first = await events.dropOlderThan(cutoff);
      expect(first.partitions).toContain(partitionName('webhook_events', dayA));
      expect(first.partitions).not.toContain(partitionName('webhook_events', dayB));
      expect(first.rows).toBe(1);
      expect(await storedRow(a)).toBeUndefined();
      expect(await storedRow(ancient)).toBeUndefined();
      expect(await storedRow(b)).toBeDefined();

      await db.query(`UPDATE webhook_events SET fanned_out_at = now() WHERE id = $1`, [b]);
      const second = await events.dropOlderThan(cutoff);
      expect(second.partitions).toEqual([partitionName('webhook_events', dayB)]);
      expect(await storedRow(b)).toBeUndefined();
      expect(await events.dropOlderThan(cutoff)).toEqual({ partitions: [], rows: 0 });
    });
  });
});
