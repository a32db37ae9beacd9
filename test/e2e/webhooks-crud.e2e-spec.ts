import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { AttemptResult, summarizeResults } from '../../src/delivery/queue/result-summary';
import { EventsService } from '../../src/events/events.service';
import { WEBHOOK_DISABLED, WebhookDisabledPayload } from '../../src/webhooks/webhook-bus';
import { WebhooksService } from '../../src/webhooks/webhooks.service';
import { createTestApp, TestApp } from '../utils/test-app';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The guide's curl example, verbatim. */
const GUIDE_BODY = {
  url: 'https://webhook.site/YOUR-UNIQUE-URL',
  name: '测试 Webhook',
  description: '这是测试',
  events: ['service.started', 'user.created'],
};

// response bodies as supertest gives them (any), so fields read and interpolate without casts
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe('Webhooks CRUD (e2e)', () => {
  let t: TestApp;
  let admin: string;
  let viewer: string;
  let db: DataSource;
  let service: WebhooksService;
  let bus: EventEmitter2;
  const disabledEvents: WebhookDisabledPayload[] = [];
  const onDisabled = (p: WebhookDisabledPayload) => disabledEvents.push(p);

  const as = (token: string) => ({
    get: (path: string) => t.http().get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string, body?: object) => t.http().post(path).set('Authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object) => t.http().put(path).set('Authorization', `Bearer ${token}`).send(body),
    delete: (path: string) => t.http().delete(path).set('Authorization', `Bearer ${token}`),
  });
  const create = async (body: Json = {}): Promise<Json> =>
    (
      await as(admin)
        .post('/api/webhooks', { url: 'https://example.com/hook', name: 'hook', events: ['*'], ...body })
        .expect(201)
    ).body;
  const row = async (id: string): Promise<Json | undefined> => (await db.query<Json[]>(`SELECT * FROM webhooks WHERE id = $1`, [id]))[0];
  const count = async (): Promise<number> => (await db.query(`SELECT count(*)::int AS n FROM webhooks`))[0].n;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.login();
    await as(admin).post('/api/users', { username: 'watcher', password: 'watcher-pass-1', role: 'viewer' }).expect(201);
    viewer = await t.login('watcher', 'watcher-pass-1');
    db = t.app.get(DataSource);
    service = t.app.get(WebhooksService);
    bus = t.app.get(EventEmitter2);
    bus.on(WEBHOOK_DISABLED, onDisabled);
  });
  afterAll(async () => {
    bus?.off(WEBHOOK_DISABLED, onDisabled);
    await t?.close();
  });

  describe('create', () => {
    it("creates the guide's webhook at /api/webhooks/ and shows the full secret once", async () => {
      const res = await as(admin).post('/api/webhooks/', GUIDE_BODY).expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: '测试 Webhook',
        description: '这是测试',
        url: 'https://webhook.site/YOUR-UNIQUE-URL',
        events: ['service.started', 'user.created'],
        enabled: true,
        filter: null,
        retry_enabled: true,
        timeout_ms: 10000,
        rate_limit: null,
        ordering: 'none',
        headers: {},
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        last_error: null,
        last_triggered_at: null,
        last_success_at: null,
        last_failure_at: null,
        consecutive_failures: 0,
        failing_since: null,
        disabled_reason: null,
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
      });
      expect(await row(res.body.id)).toMatchObject({ name: '测试 Webhook', description: '这是测试', secret: res.body.secret });
    });

    it("creates the guide's Python example (retry_enabled, no description)", async () => {
      const res = await as(admin)
        .post('/api/webhooks/', {
          url: 'https://webhook.site/YOUR-UNIQUE-URL',
          name: 'Python 测试 Webhook',
          events: ['service.started', 'user.created'],
          retry_enabled: true,
        })
        .expect(201);
      expect(res.body).toMatchObject({ name: 'Python 测试 Webhook', description: '', retry_enabled: true, enabled: true });
    });

    it('takes every optional field', async () => {
      const body = {
        url: 'http://receiver.example:8080/path?x=1',
        name: '  padded name  ',
        description: 'd',
        events: ['service.*', 'user.created', 'service.*', 'system.error'],
        retry_enabled: false,
        secret: 'my-own-secret-0123456789',
        timeout_ms: 2500,
        headers: { Authorization: 'Bearer abc', 'X-Tenant': 'acme', 'User-Agent': 'custom-agent/1.0' },
        enabled: false,
      };
      const res = await as(admin).post('/api/webhooks', body).expect(201);
      expect(res.body).toMatchObject({
        url: body.url,
        name: 'padded name',
        events: ['service.*', 'user.created', 'system.error'], // duplicates dropped
        retry_enabled: false,
        secret: 'my-own-secret-0123456789',
        timeout_ms: 2500,
        headers: body.headers,
        enabled: false,
      });
    });

    it('accepts null for optional fields (defaults apply)', async () => {
      const res = await as(admin)
        .post('/api/webhooks', {
          url: 'https://example.com/n',
          name: 'nulls',
          events: ['*'],
          description: null,
          secret: null,
          headers: null,
          timeout_ms: null,
          retry_enabled: null,
        })
        .expect(201);
      expect(res.body).toMatchObject({ description: '', headers: {}, timeout_ms: 10000, retry_enabled: true, secret: expect.stringMatching(/^whsec_/) });
    });

    it('generates a different secret for every webhook', async () => {
      const a = await create();
      const b = await create();
      expect(a.secret).not.toBe(b.secret);
    });
  });

  describe('read and list', () => {
    let hook: Json;

    beforeAll(async () => {
      hook = await create({ name: 'readable', headers: { Authorization: 'Bearer receiver-token-123', 'X-Api-Key': 'k-9876543210', 'X-Tenant': 'acme' } });
    });

    it('GET /api/webhooks/:id (and with a trailing slash) masks the secret', async () => {
      for (const path of [`/api/webhooks/${hook.id}`, `/api/webhooks/${hook.id}/`]) {
        const res = await as(admin).get(path).expect(200);
        expect(res.body).toMatchObject({ id: hook.id, name: 'readable' });
        expect(res.body.secret).toBe('********' + String(hook.secret).slice(-4));
        expect(JSON.stringify(res.body)).not.toContain(hook.secret as string);
      }
    });

    it('the list (with and without trailing slash) never shows a full secret', async () => {
      const secrets = (await db.query<Array<{ secret: string }>>(`SELECT secret FROM webhooks`)).map((r) => r.secret);
      for (const path of ['/api/webhooks', '/api/webhooks/']) {
        const res = await as(admin).get(path).expect(200);
        expect(res.body).toMatchObject({ total: secrets.length, limit: 50, offset: 0 });
        const text = JSON.stringify(res.body);
        for (const secret of secrets) expect(text).not.toContain(secret);
        for (const item of res.body.items) expect(item.secret).toMatch(/^\*{8}.{0,4}$/);
      }
    });

    it('lists newest first and paginates', async () => {
      const all = await as(admin).get('/api/webhooks?limit=500').expect(200);
      const created = all.body.items.map((w: Json) => Date.parse(w.created_at as string));
      expect([...created].sort((a, b) => b - a)).toEqual(created);
      const page = await as(admin).get('/api/webhooks?limit=2&offset=1').expect(200);
      expect(page.body).toMatchObject({ total: all.body.total, limit: 2, offset: 1 });
      expect(page.body.items.map((w: Json) => w.id)).toEqual(all.body.items.slice(1, 3).map((w: Json) => w.id));
    });

    it('lets viewers read, with the secret and credential headers masked', async () => {
      const res = await as(viewer).get(`/api/webhooks/${hook.id}`).expect(200);
      expect(res.body.secret).toBe('********' + String(hook.secret).slice(-4));
      expect(res.body.headers).toEqual({ Authorization: '********-123', 'X-Api-Key': '********3210', 'X-Tenant': 'acme' });
      const list = await as(viewer).get('/api/webhooks/').expect(200);
      expect(JSON.stringify(list.body)).not.toContain(hook.secret as string);
      expect(JSON.stringify(list.body)).not.toContain('receiver-token-123');
      // admins see their own headers
      const mine = await as(admin).get(`/api/webhooks/${hook.id}`).expect(200);
      expect(mine.body.headers.Authorization).toBe('Bearer receiver-token-123');
    });

    it('answers 400 for a non-UUID id and 404 for an unknown one', async () => {
      const bad = await as(admin).get('/api/webhooks/not-a-uuid').expect(400);
      expect(bad.body).toMatchObject({ code: 'INVALID_ID', message: expect.stringMatching(/id must be a UUID/) });
      await as(admin).get('/api/webhooks/logs').expect(400);
      const missing = await as(admin).get(`/api/webhooks/${UNKNOWN_ID}`).expect(404);
      expect(missing.body.code).toBe('WEBHOOK_NOT_FOUND');
    });

    it('needs a token', async () => {
      await t.http().get('/api/webhooks').expect(401);
      await t.http().get(`/api/webhooks/${hook.id}`).expect(401);
    });
  });

  describe('list filters', () => {
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      await db.query(`DELETE FROM webhooks`);
      ids.exact = (await create({ name: 'exact', events: ['service.started'] })).id as string;
      ids.category = (await create({ name: 'category', events: ['service.*'] })).id as string;
      ids.all = (await create({ name: 'all', events: ['*'] })).id as string;
      ids.other = (await create({ name: 'other', events: ['user.created', 'backup.*'] })).id as string;
      ids.off = (await create({ name: 'off', events: ['service.started'], enabled: false })).id as string;
    });

    const names = (body: { items: Json[] }) => body.items.map((w) => w.name as string).sort();

    it('filters by enabled', async () => {
      expect(names((await as(admin).get('/api/webhooks?enabled=false').expect(200)).body)).toEqual(['off']);
      const on = await as(admin).get('/api/webhooks?enabled=true').expect(200);
      expect(names(on.body)).toEqual(['all', 'category', 'exact', 'other']);
      expect(on.body.total).toBe(4);
    });

    it('filters by event type, wildcards included', async () => {
      expect(names((await as(admin).get('/api/webhooks?event=service.started').expect(200)).body)).toEqual(['all', 'category', 'exact', 'off']);
      expect(names((await as(admin).get('/api/webhooks?event=service.stopped').expect(200)).body)).toEqual(['all', 'category']);
      expect(names((await as(admin).get('/api/webhooks?event=backup.restored').expect(200)).body)).toEqual(['all', 'other']);
      expect(names((await as(admin).get('/api/webhooks?event=system.error').expect(200)).body)).toEqual(['all']);
      const both = await as(viewer).get('/api/webhooks?event=service.started&enabled=true&limit=2').expect(200);
      expect(both.body).toMatchObject({ total: 3, limit: 2 });
      expect(both.body.items).toHaveLength(2);
    });

    it.each([
      ['enabled=yes', /enabled must be true or false/],
      ['event=service.exploded', /service\.exploded.*valid types: service\.started/],
      ['event=service.*', /event must be an event type/],
      ['limit=0', /limit/],
      ['limit=501', /limit/],
      ['offset=-5', /offset/],
      ['owner=me', /owner/],
    ])('answers %s with 400', async (query, message) => {
      const res = await as(admin).get(`/api/webhooks?${query}`).expect(400);
      expect(res.body.message).toMatch(message);
    });

    it('findSubscribersOfTypes returns the enabled webhooks whose subscriptions match', async () => {
      const ids_ = async (type: string) => ((await service.findSubscribersOfTypes([type])).get(type) ?? []).map((w) => w.name).sort();
      expect(await ids_('service.started')).toEqual(['all', 'category', 'exact']);
      expect(await ids_('service.deleted')).toEqual(['all', 'category']);
      expect(await ids_('user.created')).toEqual(['all', 'other']);
      expect(await ids_('user.deleted')).toEqual(['all']);
      expect(await ids_('backup.deleted')).toEqual(['all', 'other']);
    });

    it('findByIds, findById and getOrFail', async () => {
      const found = await service.findByIds([ids.exact, ids.off, UNKNOWN_ID, 'junk', ids.exact]);
      expect(found.map((w) => w.id).sort()).toEqual([ids.exact, ids.off].sort());
      expect(await service.findByIds([])).toEqual([]);
      expect((await service.findById(ids.all))?.name).toBe('all');
      expect(await service.findById(UNKNOWN_ID)).toBeNull();
      expect(await service.findById('logs')).toBeNull();
      await expect(service.getOrFail(UNKNOWN_ID)).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND', status: 404 });
    });
  });

  describe('validation', () => {
    const valid = { url: 'https://example.com/hook', name: 'valid', events: ['service.started'] };
    const allTypes = /service\.started.*system\.error/;

    const cases: Array<[string, Json, RegExp]> = [
      ['url missing', { url: undefined }, /url is required/],
      ['url not a string', { url: 5 }, /url must be a string/],
      ['url unparsable', { url: 'not a url' }, /url is not a valid URL/],
      ['url ftp', { url: 'ftp://example.com/x' }, /url must be an http:\/\/ or https:\/\/ URL/],
      ['url javascript', { url: 'javascript:alert(1)' }, /url must be an http:\/\/ or https:\/\/ URL/],
      ['url with credentials', { url: 'https://user:pass@example.com/x' }, /url must not contain a user name or password/],
      ['url with a user only', { url: 'https://user@example.com/x' }, /url must not contain a user name or password/],
      ['url too long', { url: 'https://example.com/' + 'a'.repeat(2030) }, /url must be at most 2048 characters/],
      ['name missing', { name: undefined }, /name must be a string/],
      ['name empty', { name: '' }, /name must be 1 to 100 characters/],
      ['name blank', { name: '   ' }, /name must be 1 to 100 characters/],
      ['name too long', { name: 'n'.repeat(101) }, /name must be 1 to 100 characters/],
      ['name not a string', { name: 42 }, /name must be a string/],
      ['description too long', { description: 'd'.repeat(1001) }, /description must be at most 1000 characters/],
      ['description not a string', { description: 7 }, /description must be a string/],
      ['events missing', { events: undefined }, /events must be an array/],
      ['events a string', { events: 'service.started' }, /events must be an array/],
      ['events empty', { events: [] }, /events must contain at least one/],
      [
        'events unknown type',
        { events: ['service.started', 'service.exploded'] },
        /unknown event type "service\.exploded"; valid values: \*, service\.\*.*service\.started.*system\.error/,
      ],
      ['events wrong case', { events: ['Service.Started'] }, allTypes],
      ['events non-string', { events: ['user.created', 3] }, /events\[1\] must be a string/],
      ['events too many', { events: Array.from({ length: 101 }, () => 'user.created') }, /at most 100 entries/],
      ['events webhook.test', { events: ['webhook.test'] }, /cannot be subscribed/],
      ['headers an array', { headers: ['a'] }, /headers must be an object/],
      ['headers non-string value', { headers: { 'X-A': 5 } }, /headers\.X-A must be a string/],
      ['headers bad name', { headers: { 'Bad Name': 'v' } }, /"Bad Name" is not a valid header name/],
      ['headers CRLF', { headers: { 'X-A': 'a\r\nInjected: 1' } }, /headers\.X-A must not contain line breaks/],
      ['headers LF', { headers: { 'X-A': 'a\nb' } }, /headers\.X-A must not contain line breaks/],
      ['headers non-Latin-1', { headers: { 'X-A': '中文' } }, /headers\.X-A contains characters not allowed/],
      ['headers Content-Type', { headers: { 'content-TYPE': 'text/plain' } }, /"content-TYPE" cannot be set/],
      ['headers Host', { headers: { Host: 'evil.example' } }, /"Host" cannot be set/],
      ['headers Content-Length', { headers: { 'Content-Length': '1' } }, /"Content-Length" cannot be set/],
      ['headers Transfer-Encoding', { headers: { 'Transfer-Encoding': 'chunked' } }, /"Transfer-Encoding" cannot be set/],
      ['headers Connection', { headers: { connection: 'close' } }, /"connection" cannot be set/],
      ['headers X-ATLAS-*', { headers: { 'x-atlas-signature': 'forged' } }, /"x-atlas-signature" cannot be set/],
      ['headers webhook-*', { headers: { 'Webhook-Id': 'x' } }, /"Webhook-Id" cannot be set/],
      ['headers duplicate', { headers: { 'X-A': '1', 'x-a': '2' } }, /"x-a" is given more than once/],
      ['headers too many', { headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])) }, /at most 20 entries/],
      ['headers value too long', { headers: { 'X-A': 'v'.repeat(1025) } }, /headers\.X-A must be at most 1024 characters/],
      ['timeout_ms too small', { timeout_ms: 999 }, /timeout_ms must be at least 1000/],
      ['timeout_ms too large', { timeout_ms: 30001 }, /timeout_ms must be at most 30000/],
      ['timeout_ms fractional', { timeout_ms: 1500.5 }, /timeout_ms must be a whole number/],
      ['timeout_ms a string', { timeout_ms: '5000' }, /timeout_ms must be a whole number/],
      ['retry_enabled a string', { retry_enabled: 'yes' }, /retry_enabled must be true or false/],
      ['enabled a number', { enabled: 1 }, /enabled must be true or false/],
      ['secret too short', { secret: 's'.repeat(15) }, /secret must be 16 to 255 characters/],
      ['secret too long', { secret: 's'.repeat(256) }, /secret must be 16 to 255 characters/],
      ['secret not a string', { secret: 1234567890123456 }, /secret must be a string/],
      ['unknown field', { colour: 'blue' }, /colour/],
    ];

    it.each(cases)('POST rejects %s with 400 and stores nothing', async (_name, patch, message) => {
      const before = await count();
      const res = await as(admin)
        .post('/api/webhooks', { ...valid, ...patch })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.message).toMatch(message);
      expect(await count()).toBe(before);
    });

    describe('PUT', () => {
      let hook: Json;
      let stored: Json | undefined;

      beforeAll(async () => {
        hook = await create({ name: 'stable', events: ['user.created'], headers: { 'X-A': '1' } });
        stored = await row(hook.id as string);
      });

      it.each(cases.filter(([name]) => !name.endsWith('missing')))('rejects %s with 400 and changes nothing', async (_name, patch, message) => {
        const res = await as(admin).put(`/api/webhooks/${hook.id}`, patch).expect(400);
        expect(res.body.message).toMatch(message);
        expect(await row(hook.id as string)).toEqual(stored);
      });

      it.each([['url'], ['name'], ['events'], ['retry_enabled'], ['secret'], ['timeout_ms'], ['enabled']])('rejects null for %s', async (field) => {
        const res = await as(admin)
          .put(`/api/webhooks/${hook.id}`, { [field]: null })
          .expect(400);
        expect(res.body.message).toContain(field);
        expect(await row(hook.id as string)).toEqual(stored);
      });
    });

    it('accepts the boundaries', async () => {
      const res = await as(admin)
        .post('/api/webhooks', {
          url: 'https://example.com/' + 'a'.repeat(2048 - 'https://example.com/'.length),
          name: 'n'.repeat(100),
          description: 'd'.repeat(1000),
          events: Array.from({ length: 100 }, () => 'user.created'),
          secret: 's'.repeat(16),
          timeout_ms: 1000,
          headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`X-H${i}`, i === 0 ? 'v'.repeat(1024) : 'café; tab\tok'])),
        })
        .expect(201);
      expect(res.body.events).toEqual(['user.created']);
      expect(
        (
          await as(admin)
            .post('/api/webhooks', { ...valid, secret: 's'.repeat(255), timeout_ms: 30000 })
            .expect(201)
        ).body.timeout_ms,
      ).toBe(30000);
    });
  });

  describe('update', () => {
    it('changes any subset of fields and returns the webhook', async () => {
      const hook = await create({ name: 'before', events: ['user.created'], headers: { 'X-A': '1' }, description: 'old' });
      await new Promise((r) => setTimeout(r, 5));
      const res = await as(admin)
        .put(`/api/webhooks/${hook.id}/`, { name: ' after ', events: ['domain.*', 'user.created', 'domain.*'], timeout_ms: 20000, retry_enabled: false })
        .expect(200);
      expect(res.body).toMatchObject({
        id: hook.id,
        name: 'after',
        events: ['domain.*', 'user.created'],
        timeout_ms: 20000,
        retry_enabled: false,
        url: hook.url,
        description: 'old',
        headers: { 'X-A': '1' },
        secret: '********' + String(hook.secret).slice(-4),
      });
      expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(hook.updated_at as string));
      expect((await as(admin).get(`/api/webhooks/${hook.id}`).expect(200)).body).toEqual(res.body);
    });

    it('null resets description and headers', async () => {
      const hook = await create({ description: 'something', headers: { 'X-A': '1' } });
      const res = await as(admin).put(`/api/webhooks/${hook.id}`, { description: null, headers: null }).expect(200);
      expect(res.body).toMatchObject({ description: '', headers: {} });
    });

    it('an empty body changes nothing', async () => {
      const hook = await create();
      const res = await as(admin).put(`/api/webhooks/${hook.id}`, {}).expect(200);
      expect(res.body.updated_at).toBe(hook.updated_at);
    });

    it('a new secret replaces the old one at once', async () => {
      const hook = await create();
      await as(admin).post(`/api/webhooks/${hook.id}/rotate-secret`).expect(200);
      const res = await as(admin).put(`/api/webhooks/${hook.id}`, { secret: 'replacement-secret-0001' }).expect(200);
      expect(res.body.secret).toBe('********0001');
      expect((await as(admin).get(`/api/webhooks/${hook.id}/secret`).expect(200)).body).toEqual({
        secret: 'replacement-secret-0001',
        previous_secret: null,
        previous_secret_expires_at: null,
      });
    });

    it('disabling through PUT records the reason and announces it; enabling clears the failure state', async () => {
      const hook = await create();
      const off = await as(admin).put(`/api/webhooks/${hook.id}`, { enabled: false }).expect(200);
      expect(off.body).toMatchObject({ enabled: false, disabled_reason: 'disabled by an operator' });
      expect(disabledEvents).toContainEqual({ id: hook.id, reason: 'disabled by an operator' });
      await db.query(`UPDATE webhooks SET consecutive_failures = 4, failing_since = now() - interval '1 day' WHERE id = $1`, [hook.id]);
      const on = await as(admin).put(`/api/webhooks/${hook.id}`, { enabled: true }).expect(200);
      expect(on.body).toMatchObject({ enabled: true, disabled_reason: null, consecutive_failures: 0, failing_since: null });
    });

    it('answers 400/404 for bad ids', async () => {
      await as(admin).put('/api/webhooks/not-a-uuid', { name: 'x' }).expect(400);
      await as(admin).put(`/api/webhooks/${UNKNOWN_ID}`, { name: 'x' }).expect(404);
    });
  });

  describe('delete', () => {
    it("answers 204, then 404, and removes the attempts with it (queued and logged), leaving other webhooks' log alone", async () => {
      const hook = await create();
      const other = await create({ name: 'other' });
      const events = t.app.get(EventsService);
      const ev = await events.emit('service.started', { s: 1 }, { fanOut: false });
      await db.query(
        `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, scheduled_at) VALUES ($1, $2, $3, 'service.started', 1, now() + interval '1 day')`,
        [hook.id, ev.id, ev.createdAt],
      );
      await db.query(
        `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, status, scheduled_at) VALUES ($1, $2, $3, 'service.started', 1, 'failed', now())`,
        [hook.id, ev.id, ev.createdAt],
      );
      for (const status of ['succeeded', 'failed']) {
        await db.query(
          `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, status, scheduled_at) VALUES ($1, $2, $3, 'service.started', 2, $4, now())`,
          [other.id, ev.id, ev.createdAt, status],
        );
      }
      expect((await db.query(`SELECT count(*)::int AS n FROM webhook_attempts WHERE webhook_id = $1`, [hook.id]))[0].n).toBe(2);
      await as(admin).delete(`/api/webhooks/${hook.id}`).expect(204);
      expect(await row(hook.id as string)).toBeUndefined();
      expect((await db.query(`SELECT count(*)::int AS n FROM webhook_attempts WHERE webhook_id = $1`, [hook.id]))[0].n).toBe(0);
      expect((await db.query(`SELECT count(*)::int AS n FROM webhook_logs WHERE webhook_id = $1`, [other.id]))[0].n).toBe(2);
      await as(admin).get(`/api/webhooks/${hook.id}`).expect(404);
      await as(admin).delete(`/api/webhooks/${hook.id}`).expect(404);
      await as(admin).delete('/api/webhooks/not-a-uuid').expect(400);
    });

    it('works with a trailing slash', async () => {
      const hook = await create();
      await as(admin).delete(`/api/webhooks/${hook.id}/`).expect(204);
    });
  });

  describe('toggle', () => {
    it('turning off records the operator and announces it', async () => {
      const hook = await create();
      const res = await as(admin).post(`/api/webhooks/${hook.id}/toggle`).expect(200);
      expect(res.body).toMatchObject({ id: hook.id, enabled: false, disabled_reason: 'disabled by an operator' });
      expect(disabledEvents).toContainEqual({ id: hook.id, reason: 'disabled by an operator' });
      expect((await row(hook.id as string))?.enabled).toBe(false);
    });

    it('turning on clears the failure state but keeps the history', async () => {
      const hook = await create();
      await db.query(
        `UPDATE webhooks SET enabled = false, consecutive_failures = 7, failing_since = now() - interval '6 days',
           disabled_reason = 'failing since …', last_error = 'HTTP 500', last_failure_at = now() WHERE id = $1`,
        [hook.id],
      );
      const before = disabledEvents.length;
      const res = await as(admin).post(`/api/webhooks/${hook.id}/toggle/`).expect(200);
      expect(res.body).toMatchObject({ enabled: true, consecutive_failures: 0, failing_since: null, disabled_reason: null, last_error: 'HTTP 500' });
      expect(res.body.last_failure_at).toMatch(ISO);
      expect(disabledEvents.length).toBe(before);
      expect(await row(hook.id as string)).toMatchObject({ enabled: true, consecutive_failures: 0, failing_since: null, disabled_reason: null });
    });

    it('flips back and forth', async () => {
      const hook = await create();
      const states: boolean[] = [];
      for (let i = 0; i < 3; i++) states.push((await as(admin).post(`/api/webhooks/${hook.id}/toggle`).expect(200)).body.enabled);
      expect(states).toEqual([false, true, false]);
    });

    it('answers 400/404 for bad ids', async () => {
      await as(admin).post('/api/webhooks/not-a-uuid/toggle').expect(400);
      await as(admin).post(`/api/webhooks/${UNKNOWN_ID}/toggle`).expect(404);
    });
  });

  describe('secrets', () => {
    it('GET …/secret reveals the secret to admins', async () => {
      const hook = await create({ secret: 'a-known-secret-value-123' });
      const res = await as(admin).get(`/api/webhooks/${hook.id}/secret`).expect(200);
      expect(res.body).toEqual({ secret: 'a-known-secret-value-123', previous_secret: null, previous_secret_expires_at: null });
    });

    it('rotate-secret generates a new secret and keeps the old one for 24 hours', async () => {
      const hook = await create();
      const started = Date.now();
      const res = await as(admin).post(`/api/webhooks/${hook.id}/rotate-secret`).expect(200);
      expect(res.body).toEqual({ secret: expect.stringMatching(/^whsec_/), previous_secret_expires_at: expect.stringMatching(ISO) });
      expect(res.body.secret).not.toBe(hook.secret);
      const expires = Date.parse(res.body.previous_secret_expires_at);
      expect(expires).toBeGreaterThan(started + 24 * 3600_000 - 60_000);
      expect(expires).toBeLessThan(Date.now() + 24 * 3600_000 + 60_000);

      const secret = await as(admin).get(`/api/webhooks/${hook.id}/secret`).expect(200);
      expect(secret.body).toEqual({ secret: res.body.secret, previous_secret: hook.secret, previous_secret_expires_at: res.body.previous_secret_expires_at });
      const shown = await as(admin).get(`/api/webhooks/${hook.id}`).expect(200);
      expect(shown.body.secret).toBe('********' + res.body.secret.slice(-4));

      const entity = await service.getOrFail(hook.id as string);
      expect(service.signingSecrets(entity, new Date())).toEqual({ secret: res.body.secret, previousSecret: hook.secret });
      expect(service.signingSecrets(entity, new Date(expires + 1))).toEqual({ secret: res.body.secret, previousSecret: null });
    });

    it('hides an expired previous secret', async () => {
      const hook = await create();
      await as(admin).post(`/api/webhooks/${hook.id}/rotate-secret`).expect(200);
      await db.query(`UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [hook.id]);
      const res = await as(admin).get(`/api/webhooks/${hook.id}/secret`).expect(200);
      expect(res.body).toMatchObject({ previous_secret: null, previous_secret_expires_at: null });
    });

    it('answers 400/404 for bad ids', async () => {
      await as(admin).get('/api/webhooks/not-a-uuid/secret').expect(400);
      await as(admin).get(`/api/webhooks/${UNKNOWN_ID}/secret`).expect(404);
      await as(admin).post('/api/webhooks/not-a-uuid/rotate-secret').expect(400);
      await as(admin).post(`/api/webhooks/${UNKNOWN_ID}/rotate-secret`).expect(404);
    });
  });

  describe('viewers are read-only', () => {
    it('answers 403 to every write and the secret routes, and changes nothing', async () => {
      const hook = await create({ name: 'guarded' });
      const stored = await row(hook.id as string);
      const before = await count();
      const v = as(viewer);
      const attempts = [
        v.post('/api/webhooks', GUIDE_BODY),
        v.post('/api/webhooks/', GUIDE_BODY),
        v.put(`/api/webhooks/${hook.id}`, { name: 'hacked' }),
        v.delete(`/api/webhooks/${hook.id}`),
        v.post(`/api/webhooks/${hook.id}/toggle`),
        v.get(`/api/webhooks/${hook.id}/secret`),
        v.post(`/api/webhooks/${hook.id}/rotate-secret`),
      ];
      for (const req of attempts) {
        const res = await req.expect(403);
        expect(res.body.code).toBe('FORBIDDEN');
        expect(JSON.stringify(res.body)).not.toContain(hook.secret as string);
      }
      expect(await row(hook.id as string)).toEqual(stored);
      expect(await count()).toBe(before);
    });
  });

  it('documents every CRUD route under the Webhooks tag in Swagger, with its error statuses', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { tags: string[]; responses: Record<string, unknown> }>>;
    };
    const routes: Array<[string, string, string[]]> = [
      ['/api/webhooks', 'get', ['200', '400', '401']],
      ['/api/webhooks', 'post', ['201', '400', '401', '403']],
      ['/api/webhooks/{id}', 'get', ['200', '400', '401', '404']],
      ['/api/webhooks/{id}', 'put', ['200', '400', '401', '403', '404']],
      ['/api/webhooks/{id}', 'delete', ['204', '400', '401', '403', '404']],
      ['/api/webhooks/{id}/toggle', 'post', ['200', '400', '401', '403', '404']],
      ['/api/webhooks/{id}/secret', 'get', ['200', '400', '401', '403', '404']],
      ['/api/webhooks/{id}/rotate-secret', 'post', ['200', '400', '401', '403', '404']],
    ];
    for (const [path, method, statuses] of routes) {
      const op = doc.paths[path]?.[method];
      expect([path, method, op?.tags]).toEqual([path, method, ['Webhooks']]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(statuses));
    }
  });

  it('documents rate_limit and ordering on create, update and the webhook, and in stats', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      components: { schemas: Record<string, { properties: Record<string, { enum?: string[]; minimum?: number; maximum?: number }> }> };
    };
    const { schemas } = doc.components;
    for (const name of ['CreateWebhookDto', 'UpdateWebhookDto', 'WebhookDto']) {
      expect(schemas[name].properties.ordering.enum).toEqual(['none', 'fifo']);
      expect(schemas[name].properties.rate_limit).toBeDefined();
    }
    expect(schemas.CreateWebhookDto.properties.rate_limit).toMatchObject({ minimum: 1, maximum: 100000 });
    expect(schemas.StatsDto.properties.rate_limit).toBeDefined();
    expect(schemas.QueueDto.properties.behind_seconds).toBeDefined();
  });

  describe('delivery bookkeeping (summaries from delivery, stored by WebhooksService)', () => {
    const at = (isoTime: string) => new Date(isoTime);
    const record = (results: AttemptResult[]) => service.applyDeliverySummaries(summarizeResults(results));

    it('records successes and failures, applying each webhook’s results in time order', async () => {
      const a = (await create({ name: 'a' })).id as string;
      const b = (await create({ name: 'b' })).id as string;
      const disabled = await record([
        { webhookId: a, success: false, finishedAt: at('2030-01-01T00:00:03Z'), error: 'HTTP 502' },
        { webhookId: b, success: false, finishedAt: at('2030-01-01T00:00:01Z'), error: 'timeout after 10000 ms' },
        { webhookId: a, success: true, finishedAt: at('2030-01-01T00:00:02Z'), error: null },
        { webhookId: a, success: false, finishedAt: at('2030-01-01T00:00:01Z'), error: 'HTTP 500' },
        { webhookId: b, success: false, finishedAt: at('2030-01-01T00:00:02Z'), error: 'connection refused' },
      ]);
      expect(disabled).toEqual([]);
      expect(await row(a)).toMatchObject({
        last_triggered_at: at('2030-01-01T00:00:03Z'),
        last_success_at: at('2030-01-01T00:00:02Z'),
        last_failure_at: at('2030-01-01T00:00:03Z'),
        last_error: 'HTTP 502',
        consecutive_failures: 1,
        failing_since: at('2030-01-01T00:00:03Z'),
        enabled: true,
      });
      expect(await row(b)).toMatchObject({
        last_triggered_at: at('2030-01-01T00:00:02Z'),
        last_success_at: null,
        last_failure_at: at('2030-01-01T00:00:02Z'),
        last_error: 'connection refused',
        consecutive_failures: 2,
        failing_since: at('2030-01-01T00:00:01Z'),
      });

      // later batches: the streak continues, then a success ends it
      await record([{ webhookId: b, success: false, finishedAt: at('2030-01-01T00:00:05Z'), error: 'HTTP 503' }]);
      expect(await row(b)).toMatchObject({ consecutive_failures: 3, failing_since: at('2030-01-01T00:00:01Z'), last_error: 'HTTP 503' });
      await record([{ webhookId: b, success: true, finishedAt: at('2030-01-01T00:00:06Z'), error: null }]);
      expect(await row(b)).toMatchObject({ consecutive_failures: 0, failing_since: null, last_success_at: at('2030-01-01T00:00:06Z'), last_error: 'HTTP 503' });
      const shown = (await as(admin).get(`/api/webhooks/${b}`).expect(200)).body;
      expect(shown).toMatchObject({ last_success_at: '2030-01-01T00:00:06.000Z', last_failure_at: '2030-01-01T00:00:05.000Z', last_error: 'HTTP 503' });
      expect(await record([])).toEqual([]);
    });

    it('a success that finished before an already recorded failure does not end the streak', async () => {
      const id = (await create()).id as string;
      await record([{ webhookId: id, success: false, finishedAt: at('2030-01-01T00:00:10Z'), error: 'HTTP 500' }]);
      await record([{ webhookId: id, success: true, finishedAt: at('2030-01-01T00:00:05Z'), error: null }]);
      expect(await row(id)).toMatchObject({ consecutive_failures: 1, failing_since: at('2030-01-01T00:00:10Z'), last_success_at: at('2030-01-01T00:00:05Z') });
    });

    it('disables a webhook failing for longer than WEBHOOK_DISABLE_AFTER_HOURS and announces it', async () => {
      const longFailing = (await create({ name: 'long' })).id as string;
      const recent = (await create({ name: 'recent' })).id as string;
      const recovering = (await create({ name: 'recovering' })).id as string;
      const alreadyOff = (await create({ name: 'off' })).id as string;
      await db.query(
        `UPDATE webhooks SET consecutive_failures = 40, failing_since = date_trunc('milliseconds', now() - interval '121 hours') WHERE id = ANY($1::uuid[])`,
        [[longFailing, recovering, alreadyOff]],
      );
      await db.query(`UPDATE webhooks SET consecutive_failures = 3, failing_since = now() - interval '119 hours' WHERE id = $1`, [recent]);
      await db.query(`UPDATE webhooks SET enabled = false, disabled_reason = 'disabled by an operator' WHERE id = $1`, [alreadyOff]);
      const failingSince = ((await row(longFailing))!.failing_since as Date).toISOString();
      const before = disabledEvents.length;
      const now = new Date();

      const disabled = await record([
        { webhookId: longFailing, success: false, finishedAt: now, error: 'HTTP 500' },
        { webhookId: recent, success: false, finishedAt: now, error: 'HTTP 500' },
        { webhookId: recovering, success: false, finishedAt: new Date(now.getTime() - 1000), error: 'HTTP 500' },
        { webhookId: recovering, success: true, finishedAt: now, error: null },
        { webhookId: alreadyOff, success: false, finishedAt: now, error: 'HTTP 500' },
      ]);

      const reason = `failing since ${failingSince} (more than 120 hours without a successful delivery)`;
      expect(disabled).toEqual([longFailing]);
      expect(await row(longFailing)).toMatchObject({ enabled: false, disabled_reason: reason, consecutive_failures: 41 });
      expect(await row(recent)).toMatchObject({ enabled: true, disabled_reason: null, consecutive_failures: 4 });
      expect(await row(recovering)).toMatchObject({ enabled: true, consecutive_failures: 0, failing_since: null });
      expect(await row(alreadyOff)).toMatchObject({ enabled: false, disabled_reason: 'disabled by an operator' });
      expect(disabledEvents.slice(before)).toEqual([{ id: longFailing, reason }]);
      const shown = (await as(admin).get(`/api/webhooks/${longFailing}`).expect(200)).body;
      expect(shown).toMatchObject({ enabled: false, disabled_reason: reason });
    });

    it('does not wait for a transaction that holds a key-share lock on the webhook, as an attempt insert’s foreign key check does', async () => {
      // FOR UPDATE here deadlocked with the fan-out's attempt inserts (a 1 s stall, then one side aborted)
      const id = (await create()).id as string;
      const other = db.createQueryRunner();
      await other.connect();
      try {
        await other.startTransaction();
        await other.query('SELECT 1 FROM webhooks WHERE id = $1 FOR KEY SHARE', [id]);
        const write = record([{ webhookId: id, success: true, finishedAt: at('2030-01-02T00:00:00Z'), error: null }]);
        const outcome = await Promise.race([write.then(() => 'written'), new Promise((r) => setTimeout(() => r('blocked'), 3000))]);
        expect(outcome).toBe('written');
      } finally {
        await other.rollbackTransaction();
        await other.release();
      }
      expect(await row(id)).toMatchObject({ last_success_at: at('2030-01-02T00:00:00Z') });
    });

    it('disable() turns an enabled webhook off once', async () => {
      const id = (await create()).id as string;
      const before = disabledEvents.length;
      await service.disable(id, 'the endpoint answered 410 Gone');
      expect(await row(id)).toMatchObject({ enabled: false, disabled_reason: 'the endpoint answered 410 Gone' });
      await service.disable(id, 'again');
      await service.disable(UNKNOWN_ID, 'nobody');
      expect(disabledEvents.slice(before)).toEqual([{ id, reason: 'the endpoint answered 410 Gone' }]);
      expect((await row(id))?.disabled_reason).toBe('the endpoint answered 410 Gone');
    });
  });
});
