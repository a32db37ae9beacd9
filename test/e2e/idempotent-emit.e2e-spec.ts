/**
 * Idempotent emit (issue 14, part 1): `Idempotency-Key` on POST /api/events,
 * a client-supplied event `id`, and `emit(..., { idempotencyKey })`. A repeat
 * returns the first event (200, replayed) and never stores or sends a second
 * one, also when the repeats race on two instances (child processes on one
 * database, real loopback receivers).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EventsService } from '../../src/events/events.service';
import { CaptureServer, eventually } from '../utils/capture-server';
import { attemptStatusCounts } from '../utils/delivery-db';
import { callApi, createWebhookAt, loginTo, sweepsLater } from '../utils/service-api';
import { ServiceProcess, startService } from '../utils/service-process';
import { createTestApp, TestApp } from '../utils/test-app';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

async function countEvents(url: string, where = 'true', params: unknown[] = []): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events WHERE ${where}`, params);
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}

describe('Idempotent emit (e2e)', () => {
  describe('one instance', () => {
    let t: TestApp;
    let admin: string;
    let receiver: CaptureServer;
    let db: DataSource;

    const post = (body: object, key?: string) => {
      const req = t.http().post('/api/events').set('Authorization', `Bearer ${admin}`);
      if (key !== undefined) req.set('Idempotency-Key', key);
      return req.send(body);
    };

    beforeAll(async () => {
      t = await createTestApp();
      admin = await t.login();
      db = t.app.get(DataSource);
      receiver = await new CaptureServer(() => ({ status: 200, body: 'ok' })).start();
      await t
        .http()
        .post('/api/webhooks')
        .set('Authorization', `Bearer ${admin}`)
        .send({ url: `${receiver.url}/hook`, name: 'all', events: ['*'] })
        .expect(201);
    });
    afterAll(async () => {
      await t?.close();
      await receiver?.close();
    });

    it('the same key and body again returns the first event (200, replayed, Idempotent-Replayed), and only one delivery goes out', async () => {
      const body = { type: 'service.started', data: { service: 'nginx', n: 1 } };
      const first = await post(body, 'order-1').expect(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(first.body).toEqual({ id: expect.any(String), type: 'service.started' });

      const again = await post(body, 'order-1').expect(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual({ id: first.body.id, type: 'service.started', replayed: true });
      // key order of data does not matter: the canonical text is the same
      await post({ type: 'service.started', data: { n: 1, service: 'nginx' } }, 'order-1').expect(200);

      expect(await countEvents(t.databaseUrl, `payload::text LIKE '%nginx%'`)).toBe(1);
      await receiver.waitFor(1);
      await sweepsLater(t.baseUrl, 2);
      expect(receiver.requests.filter((r) => r.body.includes('nginx'))).toHaveLength(1);
    });

    it('the same key with another body is a 409 naming the key; nothing is stored', async () => {
      await post({ type: 'user.created', data: { user: 'ann' } }, 'order-2').expect(202);
      const clash = await post({ type: 'user.created', data: { user: 'bob' } }, 'order-2').expect(409);
      expect(clash.body).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', message: expect.stringContaining('order-2') });
      const otherType = await post({ type: 'user.deleted', data: { user: 'ann' } }, 'order-2').expect(409);
      expect(otherType.body.code).toBe('IDEMPOTENCY_CONFLICT');
      expect(await countEvents(t.databaseUrl, `payload::text LIKE '%bob%'`)).toBe(0);
    });

    it('a client-supplied id: same id and body replays, a different body is a 409, and the event keeps that id', async () => {
      const id = randomUUID();
      const body = { id, type: 'backup.created', data: { backup: 'b-1' } };
      const first = await post(body).expect(202);
      expect(first.body.id).toBe(id);
      const again = await post({ ...body, id: id.toUpperCase() }).expect(200);
      expect(again.body).toEqual({ id, type: 'backup.created', replayed: true });
      expect(again.headers['idempotent-replayed']).toBe('true');
      const clash = await post({ ...body, data: { backup: 'b-2' } }).expect(409);
      expect(clash.body.message).toContain(id);
      expect(await countEvents(t.databaseUrl, 'id = $1', [id])).toBe(1);
      const stored = await t.http().get(`/api/events/${id}`).set('Authorization', `Bearer ${admin}`).expect(200);
      expect(stored.body.data).toEqual({ backup: 'b-1' });
    });

    it('a client-supplied id is still refused with other data once its key has expired (the stored event decides)', async () => {
      const id = randomUUID();
      await post({ id, type: 'backup.deleted', data: { backup: 'old' } }).expect(202);
      await db.query(`UPDATE event_idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`, [`id:${id}`]);
      await post({ id, type: 'backup.deleted', data: { backup: 'new' } }).expect(409);
      const replay = await post({ id, type: 'backup.deleted', data: { backup: 'old' } }).expect(200);
      expect(replay.body.id).toBe(id);
      expect(await countEvents(t.databaseUrl, 'id = $1', [id])).toBe(1);
    });

    it('an expired key is free again: deleted by the clean-up, and a new request with it stores a new event', async () => {
      const body = { type: 'domain.created', data: { domain: 'expired.example' } };
      const first = await post(body, 'order-3').expect(202);
      await db.query(`UPDATE event_idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'key:order-3'`);
      const events = t.app.get(EventsService);
      expect(await events.deleteExpiredIdempotencyKeys()).toBeGreaterThanOrEqual(1);
      expect(await db.query(`SELECT key FROM event_idempotency_keys WHERE key = 'key:order-3'`)).toEqual([]);
      const second = await post(body, 'order-3').expect(202);
      expect(second.body.id).not.toBe(first.body.id);
    });

    it('bad keys and ids are 400s naming the problem', async () => {
      const long = await post({ type: 'service.started' }, 'k'.repeat(256)).expect(400);
      expect(long.body.message).toMatch(/Idempotency-Key must be at most 255/);
      const bad = await post({ type: 'service.started', id: 'not-a-uuid' }).expect(400);
      expect(bad.body.message).toMatch(/id must be a UUID/);
    });

    it('emit(type, data, { idempotencyKey }) from code: one event, the repeat replayed; inside a caller transaction too', async () => {
      const events = t.app.get(EventsService);
      const a = await events.emit('system.error', { code: 'E1' }, { idempotencyKey: 'code-1' });
      const b = await events.emit('system.error', { code: 'E1' }, { idempotencyKey: 'code-1' });
      expect(a.replayed).toBeUndefined();
      expect(b).toMatchObject({ id: a.id, replayed: true });
      await expect(events.emit('system.error', { code: 'E2' }, { idempotencyKey: 'code-1' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });

      // in a caller's transaction: the replay leaves the caller's own work alone, a rollback frees the key
      const inTx = await db.transaction((m) => events.emit('system.error', { code: 'E3' }, { idempotencyKey: 'code-2', manager: m }));
      const replayInTx = await db.transaction(async (m) => {
        const r = await events.emit('system.error', { code: 'E3' }, { idempotencyKey: 'code-2', manager: m });
        await m.query('SELECT 1');
        return r;
      });
      expect(replayInTx).toMatchObject({ id: inTx.id, replayed: true });
      await expect(
        db.transaction(async (m) => {
          await events.emit('system.error', { code: 'E4' }, { idempotencyKey: 'code-3', manager: m });
          throw new Error('caller rolls back');
        }),
      ).rejects.toThrow('caller rolls back');
      const fresh = await events.emit('system.error', { code: 'E4-again' }, { idempotencyKey: 'code-3' });
      expect(fresh.replayed).toBeUndefined();
    });
  });

  describe('two instances on one database', () => {
    let database: TestDatabase;
    const children: ServiceProcess[] = [];
    const receivers: CaptureServer[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
      for (let i = 0; i < 2; i++) children.push(await startService(database.url, { WEBHOOK_SWEEP_INTERVAL_MS: '200ms' }));
    });
    afterAll(async () => {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await Promise.all(receivers.map((r) => r.close()));
      await database?.drop();
    });

    it('concurrent identical requests with one key on both instances: one event, one 202, the rest replays, one delivery per webhook', async () => {
      const [a, b] = children;
      const tokens = [await loginTo(a.baseUrl), await loginTo(b.baseUrl)];
      for (const name of ['one', 'two']) {
        const r = await new CaptureServer(() => ({ status: 200, body: 'ok' })).start();
        receivers.push(r);
        await createWebhookAt(a.baseUrl, tokens[0], { url: `${r.url}/${name}`, name, events: ['service.*'] });
      }
      const send = async (i: number, key: string, body: object) => {
        const target = children[i % 2];
        const res = await fetch(`${target.baseUrl}/api/events`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${tokens[i % 2]}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
          body: JSON.stringify(body),
        });
        return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as { id: string } };
      };

      // several rounds, each a fresh key sent 12 times at once, half to each instance
      const rounds = 5;
      for (let round = 0; round < rounds; round++) {
        const key = `race-${round}`;
        const body = { type: 'service.created', data: { service: `svc-${round}` } };
        const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => send(i, key, body)));
        expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
        expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
        expect(answers.filter((r) => r.replayed === 'true')).toHaveLength(11);
      }
      expect(await countEvents(database.url)).toBe(rounds);

      for (const r of receivers) await r.waitFor(rounds, 20000);
      await eventually(async () => {
        const c = await attemptStatusCounts(database.url);
        return c.pending === 0 && c.sending === 0;
      });
      await sweepsLater(a.baseUrl, 2);
      for (const r of receivers) {
        expect(r.requests).toHaveLength(rounds);
        const services = r.requests.map((q) => (JSON.parse(q.body) as { data: { service: string } }).data.service).sort();
        expect(services).toEqual(Array.from({ length: rounds }, (_, i) => `svc-${i}`));
      }
      expect(await attemptStatusCounts(database.url)).toMatchObject({ succeeded: rounds * 2, pending: 0, sending: 0, failed: 0 });

      // a different body under a used key, from the other instance: 409
      const noKey = await callApi(b.baseUrl, tokens[1], 'POST', '/api/events', { type: 'service.created', data: { service: 'other' } });
      expect(noKey.status).toBe(202); // no key: a new event
      const conflict = await send(1, 'race-0', { type: 'service.created', data: { service: 'other' } });
      expect(conflict.status).toBe(409);
    });
  });
});
