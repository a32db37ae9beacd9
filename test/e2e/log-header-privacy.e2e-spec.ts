/**
 * A webhook's custom headers often carry the receiver's credentials. Attempt
 * logs keep their names only: no route that shows attempts (list, recent,
 * detail, event detail, test, redeliver, metrics) gives a value back, to a
 * viewer or to an admin, and the table itself holds no copy. Rows stored
 * before that rule are masked by the migration and again when shown.
 */
import { DataSource } from 'typeorm';
import { MaskLoggedCustomHeaders1795890000000 } from '../../migrations/1795890000000-MaskLoggedCustomHeaders';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { CaptureServer, eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

const TOKEN_VALUE = 'Bearer receiver-credential-4f9a2c7e1b';
const TENANT_VALUE = 'tenant-7731-private';

describe('Custom header values never reach attempt logs (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let admin: string;
  let viewer: string;
  let webhookId: string;
  let eventId: string;
  let logId: string;

  beforeAll(async () => {
    t = await createTestApp({ METRICS_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128' });
    receiver = await new CaptureServer().start();
    admin = await t.login();
    await t
      .http()
      .post('/api/users')
      .set({ Authorization: `Bearer ${admin}` })
      .send({ username: 'reader', password: 'reader-pass-1', role: 'viewer' })
      .expect(201);
    viewer = await t.login('reader', 'reader-pass-1');
    const created = await t
      .http()
      .post('/api/webhooks')
      .set({ Authorization: `Bearer ${admin}` })
      .send({
        url: `${receiver.url}/hook`,
        name: 'with credentials',
        events: ['backup.created'],
        headers: { Authorization: TOKEN_VALUE, 'X-Tenant': TENANT_VALUE },
      })
      .expect(201);
    webhookId = created.body.id;
    eventId = (
      await t
        .http()
        .post('/api/events')
        .set({ Authorization: `Bearer ${admin}` })
        .send({ type: 'backup.created', data: { backup: 'b1' } })
        .expect(202)
    ).body.id;
    await receiver.waitFor(1);
    const items = await eventually(async () => {
      const res = await t
        .http()
        .get(`/api/webhooks/${webhookId}/logs`)
        .set({ Authorization: `Bearer ${admin}` })
        .expect(200);
      return res.body.items.length === 1 && res.body.items[0].status === 'succeeded' ? res.body.items : null;
    });
    logId = items[0].id;
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('the receiver got the real values (the headers are sent, only the log masks them)', () => {
    expect(receiver.requests[0].headers.authorization).toBe(TOKEN_VALUE);
    expect(receiver.requests[0].headers['x-tenant']).toBe(TENANT_VALUE);
  });

  it('the attempt detail shows the custom header names with masked values and the signature headers as sent, for viewer and admin', async () => {
    for (const token of [viewer, admin]) {
      const res = await t
        .http()
        .get(`/api/webhooks/${webhookId}/logs/${logId}`)
        .set({ Authorization: `Bearer ${token}` })
        .expect(200);
      const headers = res.body.request_headers as Record<string, string>;
      expect(headers.Authorization).toBe('********');
      expect(headers['X-Tenant']).toBe('********');
      expect(headers['X-ATLAS-Signature']).toBe(receiver.requests[0].headers['x-atlas-signature']);
      expect(headers['X-ATLAS-Event']).toBe('backup.created');
      expect(headers['webhook-id']).toBe(eventId);
      expect(JSON.stringify(res.body)).not.toContain('receiver-credential');
      expect(JSON.stringify(res.body)).not.toContain(TENANT_VALUE);
    }
  });

  it('no route that returns attempts gives a value back, to a viewer or an admin', async () => {
    const reads = [
      `/api/webhooks/${webhookId}/logs`,
      '/api/webhooks/logs/recent?hours=1',
      `/api/webhooks/${webhookId}/logs/${logId}`,
      `/api/events/${eventId}`,
    ];
    for (const token of [viewer, admin]) {
      for (const path of reads) {
        const res = await t
          .http()
          .get(path)
          .set({ Authorization: `Bearer ${token}` })
          .expect(200);
        expect(res.text).toContain(eventId); // the route did return the attempt
        expect(res.text).not.toContain('receiver-credential');
        expect(res.text).not.toContain(TENANT_VALUE);
      }
    }
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toContain('atlas_');
    expect(metrics.text).not.toContain('receiver-credential');
    expect(metrics.text).not.toContain(TENANT_VALUE);
  });

  it('a test delivery and a redelivery are logged the same way', async () => {
    const test = await t
      .http()
      .post(`/api/webhooks/${webhookId}/test`)
      .set({ Authorization: `Bearer ${admin}` })
      .expect(200);
    expect(test.body.success).toBe(true);
    expect(test.text).not.toContain('receiver-credential');
    const redo = await t
      .http()
      .post(`/api/webhooks/${webhookId}/logs/${logId}/redeliver`)
      .set({ Authorization: `Bearer ${admin}` })
      .expect(202);
    expect(redo.text).not.toContain('receiver-credential');
    for (const id of [test.body.log_id as string, redo.body.log_id as string]) {
      const detail = await eventually(async () => {
        const res = await t
          .http()
          .get(`/api/webhooks/${webhookId}/logs/${id}`)
          .set({ Authorization: `Bearer ${viewer}` })
          .expect(200);
        return res.body.finished_at ? res.body : null;
      });
      expect(detail.request_headers.Authorization).toBe('********');
      expect(detail.request_headers['X-Tenant']).toBe('********');
    }
    expect(receiver.requests.filter((r) => r.headers.authorization === TOKEN_VALUE)).toHaveLength(3);
  });

  it('the table holds no copy of a value', async () => {
    const ds = await new DataSource(dataSourceOptions(t.databaseUrl, 1)).initialize();
    try {
      const rows = await ds.query<Array<{ h: string | null }>>(`SELECT request_headers::text AS h FROM webhook_logs WHERE webhook_id = $1`, [webhookId]);
      expect(rows.length).toBeGreaterThanOrEqual(3);
      for (const row of rows) {
        expect(row.h).toContain('Authorization');
        expect(row.h).not.toContain('receiver-credential');
        expect(row.h).not.toContain(TENANT_VALUE);
      }
    } finally {
      await ds.destroy();
    }
  });

  it('rows stored before the rule are masked by the migration, and when shown', async () => {
    const ds = await new DataSource(dataSourceOptions(t.databaseUrl, 1)).initialize();
    try {
      const old = { 'Content-Type': 'application/json', 'X-ATLAS-Signature': 'abc123', Authorization: TOKEN_VALUE, 'X-Tenant': TENANT_VALUE };
      const insert = async () =>
        (
          await ds.query<Array<{ id: string }>>(
            `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, request_headers, scheduled_at, finished_at)
           VALUES ($1, $2, now(), 'backup.created', 9, 'redeliver', 'succeeded', true, $3::jsonb, now(), now()) RETURNING id`,
            [webhookId, eventId, JSON.stringify(old)],
          )
        )[0].id;

      // shown masked even while still stored as it was
      const shownId = await insert();
      for (const token of [viewer, admin]) {
        const res = await t
          .http()
          .get(`/api/webhooks/${webhookId}/logs/${shownId}`)
          .set({ Authorization: `Bearer ${token}` })
          .expect(200);
        expect(res.body.request_headers).toEqual({
          'Content-Type': 'application/json',
          'X-ATLAS-Signature': 'abc123',
          Authorization: '********',
          'X-Tenant': '********',
        });
      }

      // the migration rewrites what is stored
      const runner = ds.createQueryRunner();
      try {
        await new MaskLoggedCustomHeaders1795890000000().up(runner);
      } finally {
        await runner.release();
      }
      const [row] = await ds.query<Array<{ h: Record<string, string> }>>(`SELECT request_headers AS h FROM webhook_logs WHERE id = $1`, [shownId]);
      expect(row.h).toEqual({ 'Content-Type': 'application/json', 'X-ATLAS-Signature': 'abc123', Authorization: '********', 'X-Tenant': '********' });
    } finally {
      await ds.destroy();
    }
  });
});
