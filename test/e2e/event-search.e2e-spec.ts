/**
 * Finding an event again (issue 14, part 3): GET /api/events filtered by
 * type, category, time window and fields of the data (exact match, GIN
 * index), paged by an opaque keyset cursor.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { canonicalJson } from '../../src/common/canonical-json';
import { EventsService } from '../../src/events/events.service';
import { createTestApp, TestApp } from '../utils/test-app';

interface Page {
  items: Array<{ id: string; type: string; data: Record<string, unknown>; created_at: string }>;
  total: number | null;
  total_capped: boolean;
  next_cursor: string | null;
}

describe('Event search (e2e)', () => {
  let t: TestApp;
  let token: string;
  let db: DataSource;
  const ids: Record<string, string> = {};

  const get = (query: string) => t.http().get(`/api/events${query}`).set('Authorization', `Bearer ${token}`);
  const page = async (query: string): Promise<Page> => (await get(query).expect(200)).body as Page;
  /** Every page of a search, following next_cursor. */
  const allPages = async (query: string, limit: number): Promise<Page['items']> => {
    const out: Page['items'] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const p: Page = await page(`${query}${query ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      out.push(...p.items);
      cursor = p.next_cursor;
      if (!cursor) return out;
    }
    throw new Error('too many pages');
  };

  beforeAll(async () => {
    t = await createTestApp();
    token = await t.login();
    db = t.app.get(DataSource);
    const events = t.app.get(EventsService);
    ids.nginx = (await events.emit('service.started', { service: 'nginx', node: 'edge-1', port: 443 })).id;
    ids.nginxStopped = (await events.emit('service.stopped', { service: 'nginx', node: 'edge-2' })).id;
    ids.postgres = (await events.emit('service.started', { service: 'postgres', node: 'db-1', port: 5432 })).id;
    ids.cert = (await events.emit('domain.cert_expiring', { domain: 'shop.example.com', days_left: 7, meta: { issuer: { name: 'LE' } } })).id;
    ids.user = (await events.emit('user.created', { user: 'nginx' })).id; // the same value under another field
    ids.nul = (await events.emit('system.error', { message: 'bad \u0000 byte', service: 'nginx' })).id;
    // 120 older events, a day back, 30 of them sharing one created_at (ties broken by id)
    await db.query(
      `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
       SELECT gen_random_uuid(), 'backup.created', json_build_object('backup_id', 'bk-' || n, 'service', CASE WHEN n % 3 = 0 THEN 'nginx' ELSE 'mysql' END),
              CASE WHEN n <= 30 THEN now() - interval '1 day' ELSE now() - interval '1 day' - n * interval '1 second' END, now()
       FROM generate_series(1, 120) AS n`,
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it('data.<field>=value matches that field exactly (not the same value elsewhere), newest first', async () => {
    const p = await page('?data.service=nginx&since=' + new Date(Date.now() - 3600_000).toISOString());
    expect(p.items.map((e) => e.id)).toEqual([ids.nginxStopped, ids.nginx]);
    expect(p.total).toBeNull(); // not counted for data searches
    expect((await page('?data.service=ngin&type=service.started')).items).toEqual([]);
  });

  it('combines type, category, several data fields, nested fields and numbers', async () => {
    expect((await page('?type=service.started&data.service=nginx')).items.map((e) => e.id)).toEqual([ids.nginx]);
    expect((await page('?category=service&data.node=db-1')).items.map((e) => e.id)).toEqual([ids.postgres]);
    expect((await page('?data.service=nginx&data.node=edge-2')).items.map((e) => e.id)).toEqual([ids.nginxStopped]);
    expect((await page('?data.port=443')).items.map((e) => e.id)).toEqual([ids.nginx]);
    expect((await page('?data.days_left=7')).items.map((e) => e.id)).toEqual([ids.cert]);
    expect((await page('?data.meta.issuer.name=LE')).items.map((e) => e.id)).toEqual([ids.cert]);
    expect((await page('?data.user=nginx')).items.map((e) => e.id)).toEqual([ids.user]);
    const services = await page('?category=service');
    expect(services.items.map((e) => e.type).sort()).toEqual(['service.started', 'service.started', 'service.stopped']);
    expect(services.total).toBe(3);
  });

  it('a payload jsonb cannot hold (\\u0000) is stored and listed, just not found by data field', async () => {
    expect((await page('?type=system.error')).items.map((e) => e.id)).toEqual([ids.nul]);
    expect((await page('?type=system.error&data.service=nginx')).items).toEqual([]);
  });

  it('the cursor walks every match exactly once, ties on created_at included, and agrees with the time window', async () => {
    const all = await allPages('?type=backup.created', 7);
    expect(all).toHaveLength(120);
    expect(new Set(all.map((e) => e.id)).size).toBe(120);
    // newest first by (created_at, id)
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1], all[i]];
      expect(a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id)).toBe(true);
    }
    const nginx = await allPages('?type=backup.created&data.service=nginx', 4);
    expect(nginx).toHaveLength(40);
    expect(nginx.every((e) => e.data.service === 'nginx')).toBe(true);

    const until = all[50].created_at;
    const windowed = await allPages(`?type=backup.created&until=${until}`, 25);
    expect(windowed.every((e) => e.created_at < until)).toBe(true);
    const first = await page('?type=backup.created&limit=500');
    expect(first.total).toBe(120);
    expect(first.next_cursor).toBeNull();
  });

  it('a data search finds matches far apart in time, newest first, across pages (it looks back in growing windows)', async () => {
    const agesMinutes = [5, 90, 60 * 30, 60 * 24 * 3, 60 * 24 * 20, 60 * 24 * 200];
    const spread: string[] = [];
    for (const age of agesMinutes) {
      const [row] = await db.query<Array<{ id: string }>>(
        `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
         VALUES (gen_random_uuid(), 'system.health_warning', '{"message": "spread", "probe": "far"}', now() - $1 * interval '1 minute', now()) RETURNING id`,
        [age],
      );
      spread.push(row.id);
    }
    expect((await allPages('?data.probe=far', 2)).map((e) => e.id)).toEqual(spread);
    expect((await page('?data.probe=far&limit=50')).items.map((e) => e.id)).toEqual(spread);
    const until = new Date(Date.now() - 60 * 60_000).toISOString();
    const since = new Date(Date.now() - 60 * 24 * 30 * 60_000).toISOString();
    expect((await page(`?data.probe=far&since=${since}&until=${until}`)).items.map((e) => e.id)).toEqual(spread.slice(1, 5));
  });

  it('refuses bad searches with a 400 naming the problem', async () => {
    const msg = async (q: string) => (await get(q).expect(400)).body.message as string;
    expect(await msg('?cursor=not-a-cursor!')).toMatch(/cursor is not valid/);
    expect(await msg(`?cursor=${Buffer.from(JSON.stringify(['yesterday', randomUUID()])).toString('base64url')}`)).toMatch(/cursor is not valid/);
    const p = await page('?type=backup.created&limit=2');
    expect(await msg(`?cursor=${p.next_cursor}&offset=10`)).toMatch(/either cursor or offset/);
    expect(await msg('?category=nope')).toMatch(/Unknown category "nope"/);
    expect(await msg('?type=user.created&category=service')).toMatch(/not in category/);
    expect(await msg('?data.=x')).toMatch(/name a field/);
    expect(await msg('?data.service=a&data.service=b')).toMatch(/given once/);
    expect(await msg('?data.a=1&data.b=1&data.c=1&data.d=1&data.e=1&data.f=1')).toMatch(/At most 5/);
    expect(await msg('?bogus=1')).toMatch(/property bogus should not exist/);
  });

  it('a data search uses the GIN index on webhook_event_data(payload)', async () => {
    await db.query(
      `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
       SELECT gen_random_uuid(), 'service.started', $1::json, now() - n * interval '1 millisecond', now() FROM generate_series(1, 5000) AS n`,
      [canonicalJson({ service: 'filler', node: 'x' })],
    );
    await db.query('ANALYZE webhook_events');
    const plan = (
      await db.query<Array<{ 'QUERY PLAN': string }>>(
        `EXPLAIN SELECT id FROM webhook_events WHERE webhook_event_data(payload) @> '{"service": "postgres"}'::jsonb ORDER BY created_at DESC, id DESC LIMIT 51`,
      )
    )
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    expect(plan).toMatch(/Bitmap Index Scan on \S*webhook_event_data/);
    expect((await page('?data.service=postgres')).items.map((e) => e.id)).toEqual([ids.postgres]);
  });
});

describe('Events in Swagger', () => {
  beforeAll(async () => {
    t = await createTestApp();
  });
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });
  it('documents the filters, the cursor and data.<field> on GET /api/events', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as { paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> };
    const names = (doc.paths['/api/events']?.get?.parameters ?? []).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['type', 'category', 'since', 'until', 'cursor', 'limit', 'offset', 'data.<field>']));
  });

  it('shows an example per type on POST /api/events, the fields of every built-in type, and the admin routes', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { description?: string; requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> } }>
      >;
    };
    const examples = doc.paths['/api/events'].post.requestBody?.content['application/json'].examples ?? {};
    expect(examples['domain.cert_expiring'].value).toEqual({
      type: 'domain.cert_expiring',
      data: { domain: 'shop.example.com', expires_at: '2027-03-01T00:00:00Z', days_left: 7 },
    });
    expect(Object.keys(examples)).toHaveLength(21);
    expect(doc.paths['/api/events/types'].get.description).toContain('`domain.cert_issued`: **domain**, **expires_at**, issuer');
    expect(Object.keys(doc.paths['/api/events/types'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/events/types/{type}'])).toEqual(['patch']);
  });
});
