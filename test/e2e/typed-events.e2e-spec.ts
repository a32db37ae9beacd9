/**
 * Typed events (issue 14, part 2): every catalogue type has a JSON Schema for
 * its data and an example; enforced types refuse non-matching data with a 422
 * listing each failing path; admins add types (enforced from the start),
 * change schemas, turn enforcement on and off and deprecate types; added
 * types can be subscribed to and are delivered; a change made on one
 * instance is seen by another.
 */
import { EventsService } from '../../src/events/events.service';
import { CaptureServer, eventually } from '../utils/capture-server';
import { callApi, loginTo } from '../utils/service-api';
import { ServiceProcess, startService } from '../utils/service-process';
import { createTestApp, TestApp } from '../utils/test-app';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const INVOICE_SCHEMA = {
  type: 'object',
  properties: {
    invoice_id: { type: 'string', minLength: 1 },
    amount_cents: { type: 'integer', minimum: 0 },
    currency: { type: 'string', enum: ['EUR', 'USD'] },
  },
  required: ['invoice_id', 'amount_cents'],
};

describe('Typed events (e2e)', () => {
  describe('one instance', () => {
    let t: TestApp;
    let admin: string;
    let viewer: string;
    let receiver: CaptureServer;

    const as = (token: string) => ({
      get: (path: string) => t.http().get(path).set('Authorization', `Bearer ${token}`),
      post: (path: string, body: object) => t.http().post(path).set('Authorization', `Bearer ${token}`).send(body),
      patch: (path: string, body: object) => t.http().patch(path).set('Authorization', `Bearer ${token}`).send(body),
    });
    const emit = (type: string, data: object) => as(admin).post('/api/events', { type, data });
    const typeOf = async (type: string) => {
      const res = await as(viewer).get('/api/events/types').expect(200);
      return (res.body as Array<{ type: string }>).find((e) => e.type === type) as Record<string, unknown> | undefined;
    };

    beforeAll(async () => {
      t = await createTestApp();
      admin = await t.login();
      await as(admin).post('/api/users', { username: 'reader', password: 'reader-pass-1', role: 'viewer' }).expect(201);
      viewer = await t.login('reader', 'reader-pass-1');
      receiver = await new CaptureServer(() => ({ status: 200, body: 'ok' })).start();
    });
    afterAll(async () => {
      await t?.close();
      await receiver?.close();
    });

    it('every type of the catalogue has a schema and an example; the built-in ones (21 ATLAS types, webhook.test and the 4 operational webhook.* events) are not enforced', async () => {
      const res = await as(viewer).get('/api/events/types').expect(200);
      const list = res.body as Array<{ type: string; schema: { type: string }; example: object; enforced: boolean; builtin: boolean }>;
      expect(list).toHaveLength(26);
      for (const e of list) {
        expect(e.schema.type).toBe('object');
        expect(Object.keys(e.example).length).toBeGreaterThan(0);
        expect(e).toMatchObject({ enforced: false, builtin: true });
      }
      expect(list.find((e) => e.type === 'domain.cert_expiring')?.schema).toMatchObject({
        required: ['domain', 'expires_at'],
        properties: { domain: { format: 'hostname' }, expires_at: { format: 'date-time' } },
      });
      // not enforced: what producers send today still goes through
      await emit('domain.cert_expiring', { anything: true }).expect(202);
    });

    it('turning enforcement on for a built-in type: non-matching data is a 422 listing every failing path, matching data passes; off again accepts anything', async () => {
      const on = await as(admin).patch('/api/events/types/domain.cert_expiring', { enforced: true }).expect(200);
      expect(on.body).toMatchObject({ type: 'domain.cert_expiring', enforced: true, builtin: true, version: 1 });

      const bad = await emit('domain.cert_expiring', { domain: 'not a host name!', days_left: -1 }).expect(422);
      expect(bad.body).toMatchObject({ status_code: 422, code: 'SCHEMA_VALIDATION_FAILED' });
      const paths = (bad.body.details as Array<{ path: string; keyword: string }>).map((d) => `${d.path} ${d.keyword}`).sort();
      expect(paths).toEqual(['/days_left minimum', '/domain format', '/expires_at required']);
      expect(bad.body.message).toContain('/expires_at');

      await emit('domain.cert_expiring', { domain: 'shop.example.com', expires_at: '2027-03-01T00:00:00Z', days_left: 7 }).expect(202);
      await as(admin).patch('/api/events/types/domain.cert_expiring', { enforced: false }).expect(200);
      await emit('domain.cert_expiring', { domain: 'not a host name!' }).expect(202);
    });

    it('emit() from code is checked the same way', async () => {
      await as(admin).patch('/api/events/types/backup.created', { enforced: true }).expect(200);
      const events = t.app.get(EventsService);
      await expect(events.emit('backup.created', { size_bytes: 'big' })).rejects.toMatchObject({
        code: 'SCHEMA_VALIDATION_FAILED',
        details: expect.arrayContaining([expect.objectContaining({ path: '/backup_id' }), expect.objectContaining({ path: '/size_bytes' })]),
      });
      await expect(events.emit('backup.created', { backup_id: 'bk-1' })).resolves.toMatchObject({ type: 'backup.created' });
    });

    it('admins add a type with its schema: enforced from the start, listed in the catalogue, and subscribable by name and category', async () => {
      const added = await as(admin)
        .post('/api/events/types', {
          type: 'billing.invoice_paid',
          description: 'An invoice was paid',
          schema: INVOICE_SCHEMA,
          example: { invoice_id: 'inv-1', amount_cents: 4900 },
        })
        .expect(201);
      expect(added.body).toMatchObject({ type: 'billing.invoice_paid', category: 'billing', enforced: true, deprecated: false, builtin: false, version: 1 });
      expect(await typeOf('billing.invoice_paid')).toMatchObject({ schema: INVOICE_SCHEMA });

      const bad = await emit('billing.invoice_paid', { amount_cents: 1.5, currency: 'GBP' }).expect(422);
      expect((bad.body.details as Array<{ path: string }>).map((d) => d.path).sort()).toEqual(['/amount_cents', '/currency', '/invoice_id']);

      const byName = await as(admin)
        .post('/api/webhooks', { url: `${receiver.url}/name`, name: 'by name', events: ['billing.invoice_paid'] })
        .expect(201);
      const byCategory = await as(admin)
        .post('/api/webhooks', { url: `${receiver.url}/category`, name: 'by category', events: ['billing.*'] })
        .expect(201);
      expect(byName.body.events).toEqual(['billing.invoice_paid']);
      expect(byCategory.body.events).toEqual(['billing.*']);
      // an update may subscribe to it too
      const other = await as(admin)
        .post('/api/webhooks', { url: `${receiver.url}/later`, name: 'later', events: ['service.started'] })
        .expect(201);
      await t
        .http()
        .put(`/api/webhooks/${other.body.id}`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ events: ['billing.invoice_paid', 'service.started'] })
        .expect(200);
      await as(admin).post(`/api/webhooks/${other.body.id}/toggle`, {}).expect(200); // disabled: it receives nothing below
      const filtered = await as(admin).get('/api/webhooks?event=billing.invoice_paid&enabled=true').expect(200);
      expect(filtered.body.total).toBe(2);
      // still refused: names nobody added
      const unknown = await as(admin)
        .post('/api/webhooks', { url: `${receiver.url}/x`, name: 'x', events: ['billing.nope', 'nope.*'] })
        .expect(400);
      expect(unknown.body.message).toMatch(/unknown event types "billing.nope", "nope.\*"/);

      const ok = await emit('billing.invoice_paid', { invoice_id: 'inv-2', amount_cents: 100, currency: 'EUR' }).expect(202);
      await receiver.waitFor(2);
      expect(receiver.requests.map((r) => r.path).sort()).toEqual(['/category', '/name']);
      for (const r of receiver.requests) {
        expect(r.headers['x-atlas-event']).toBe('billing.invoice_paid');
        expect(JSON.parse(r.body)).toMatchObject({ id: ok.body.id, event: 'billing.invoice_paid', data: { invoice_id: 'inv-2' } });
      }

      // the added type is known to the other routes that name types: with the operational events in one subscription,
      // in a filter test, in the bulk retry, and in replay-missing (a webhook subscribing later gets the earlier event)
      await as(admin)
        .post('/api/webhooks', { url: `${receiver.url}/ops`, name: 'ops and billing', events: ['webhook.*', 'billing.invoice_paid'] })
        .expect(201);
      const tried = await as(admin)
        .post('/api/webhooks/filters/test', { filter: { 'data.currency': 'EUR' }, payload: { currency: 'EUR' }, type: 'billing.invoice_paid' })
        .expect(200);
      expect(tried.body).toEqual({ matches: true });
      const since = new Date(Date.now() - 3_600_000).toISOString();
      await as(admin).post('/api/webhooks/logs/retry-failed', { since, event_type: 'billing.invoice_paid' }).expect(202);
      const late = await as(admin)
        .post('/api/webhooks', { url: `${receiver.url}/late`, name: 'late', events: ['billing.*'] })
        .expect(201);
      const replayed = await as(admin).post(`/api/webhooks/${late.body.id}/replay-missing`, { since }).expect(202);
      expect(replayed.body.queued).toBe(1);
      await receiver.waitFor(3);
      expect(receiver.requests.filter((r) => r.path === '/late').map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([ok.body.id]);
    });

    it('refuses bad new types: a name outside the pattern, the webhook category, a duplicate, a schema Ajv cannot compile, an example not matching', async () => {
      const base = { description: 'x', schema: { type: 'object' }, example: {} };
      expect(
        (
          await as(admin)
            .post('/api/events/types', { ...base, type: 'NoDot' })
            .expect(400)
        ).body.message,
      ).toMatch(/<category>.<name>/);
      expect(
        (
          await as(admin)
            .post('/api/events/types', { ...base, type: 'webhook.other' })
            .expect(400)
        ).body.message,
      ).toMatch(/reserved/);
      expect(
        (
          await as(admin)
            .post('/api/events/types', { ...base, type: 'service.started' })
            .expect(409)
        ).body.code,
      ).toBe('EVENT_TYPE_EXISTS');
      const badSchema = await as(admin)
        .post('/api/events/types', { ...base, type: 'billing.bad', schema: { type: 'object', requird: ['x'] } })
        .expect(400);
      expect(badSchema.body.message).toMatch(/not a valid JSON Schema.*requird/);
      const badExample = await as(admin)
        .post('/api/events/types', { ...base, type: 'billing.bad', schema: INVOICE_SCHEMA, example: { invoice_id: 'i' } })
        .expect(400);
      expect(badExample.body.message).toMatch(/example does not match.*\/amount_cents/);
      await as(admin)
        .post('/api/events/types', { ...base, type: 'billing.nope' })
        .expect(201);
      await as(viewer)
        .post('/api/events/types', { ...base, type: 'billing.viewer' })
        .expect(403);
      await as(viewer).patch('/api/events/types/service.started', { enforced: true }).expect(403);
      await as(admin).patch('/api/events/types/nope.nothing', { enforced: true }).expect(404);
      await as(admin).patch('/api/events/types/webhook.test', { enforced: true }).expect(400);
    });

    it('a new schema raises the version and is what is enforced from then on', async () => {
      const v2 = { ...INVOICE_SCHEMA, required: ['invoice_id', 'amount_cents', 'currency'] };
      const mismatch = await as(admin).patch('/api/events/types/billing.invoice_paid', { schema: v2 }).expect(400);
      expect(mismatch.body.message).toMatch(/example does not match.*\/currency/);
      const res = await as(admin)
        .patch('/api/events/types/billing.invoice_paid', { schema: v2, example: { invoice_id: 'inv-1', amount_cents: 4900, currency: 'EUR' } })
        .expect(200);
      expect(res.body).toMatchObject({ version: 2, schema: v2 });
      const bad = await emit('billing.invoice_paid', { invoice_id: 'inv-3', amount_cents: 1 }).expect(422);
      expect(bad.body.details).toEqual([{ path: '/currency', keyword: 'required', message: "must have required property 'currency'" }]);
      expect(bad.body.message).toContain('version 2');
      // a built-in type's schema can be replaced too
      const svc = await as(admin)
        .patch('/api/events/types/service.stopped', {
          schema: { type: 'object', properties: { service: { type: 'string' }, exit_code: { type: 'integer' } }, required: ['service', 'exit_code'] },
          example: { service: 'nginx', exit_code: 0 },
          enforced: true,
        })
        .expect(200);
      expect(svc.body).toMatchObject({ builtin: true, enforced: true, version: 2, description: 'A service stopped' });
      await emit('service.stopped', { service: 'nginx' }).expect(422);
      await emit('service.stopped', { service: 'nginx', exit_code: 1 }).expect(202);
    });

    it('a deprecated type is still accepted, flagged in the catalogue and on the emit answer', async () => {
      await as(admin).patch('/api/events/types/user.expired', { deprecated: true }).expect(200);
      expect(await typeOf('user.expired')).toMatchObject({ deprecated: true, enforced: false });
      const res = await emit('user.expired', { user: 'alice' }).expect(202);
      expect(res.body).toEqual({ id: expect.any(String), type: 'user.expired', deprecated: true });
      expect(res.headers.deprecation).toBe('true');
      const listed = await as(viewer).get(`/api/events?type=user.expired`).expect(200);
      expect(listed.body.items[0]).toMatchObject({ id: res.body.id, deprecated: true });
      await as(admin).patch('/api/events/types/user.expired', { deprecated: false }).expect(200);
      const after = await emit('user.expired', { user: 'bob' }).expect(202);
      expect(after.headers.deprecation).toBeUndefined();
    });
  });

  describe('two instances on one database', () => {
    let database: TestDatabase;
    const children: ServiceProcess[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
      for (let i = 0; i < 2; i++) children.push(await startService(database.url));
    });
    afterAll(async () => {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await database?.drop();
    });

    it('a type added and enforced on one instance is known, subscribable and enforced on the other (within its second-long cache)', async () => {
      const [a, b] = children;
      const [ta, tb] = [await loginTo(a.baseUrl), await loginTo(b.baseUrl)];
      // B has read the catalogue before A changes it
      expect((await callApi(b.baseUrl, tb, 'POST', '/api/events', { type: 'system.error', data: {} })).status).toBe(202);

      const added = await callApi(a.baseUrl, ta, 'POST', '/api/events/types', {
        type: 'billing.refund',
        description: 'A refund',
        schema: INVOICE_SCHEMA,
        example: { invoice_id: 'inv-1', amount_cents: 1 },
      });
      expect(added.status).toBe(201);
      // an unknown type makes B look afresh at once
      expect((await callApi(b.baseUrl, tb, 'POST', '/api/events', { type: 'billing.refund', data: { invoice_id: 'i', amount_cents: 5 } })).status).toBe(202);
      expect(
        (await callApi(b.baseUrl, tb, 'POST', '/api/webhooks', { url: 'https://example.com/refunds', name: 'r', events: ['billing.refund'] })).status,
      ).toBe(201);
      expect((await callApi(b.baseUrl, tb, 'POST', '/api/events', { type: 'billing.refund', data: {} })).status).toBe(422);

      // enforcement of a built-in type turned on at A: B refuses within about a second
      expect((await callApi(a.baseUrl, ta, 'PATCH', '/api/events/types/system.error', { enforced: true })).status).toBe(200);
      const refused = await eventually(async () => {
        const r = await callApi<{ details?: Array<{ path: string }> }>(b.baseUrl, tb, 'POST', '/api/events', { type: 'system.error', data: {} });
        return r.status === 422 ? r : null;
      }, 5000);
      expect(refused.body.details?.map((d) => d.path)).toEqual(['/message']);
      const types = await callApi<Array<{ type: string; enforced: boolean }>>(b.baseUrl, tb, 'GET', '/api/events/types');
      expect(types.body.find((e) => e.type === 'system.error')?.enforced).toBe(true);
      expect(types.body.find((e) => e.type === 'billing.refund')).toMatchObject({ enforced: true });
    });
  });
});
