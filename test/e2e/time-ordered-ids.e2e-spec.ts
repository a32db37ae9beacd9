/**
 * Event ids and attempt (delivery) ids are time-ordered UUIDs, version 7
 * (src/common/uuid-v7.ts, migration TimeOrderedAttemptIds): their first 48
 * bits are the time they were made, so the event store's and the attempt
 * log's indexes grow at one end.
 */
import { CaptureServer } from '../utils/capture-server';
import { queryDb } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millis = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('time-ordered ids', () => {
  let t: TestApp;
  const receiver = new CaptureServer();

  beforeAll(async () => {
    [t] = await Promise.all([createTestApp(), receiver.start()]);
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  it('gives events and their deliveries version 7 ids made at the time, later ones sorting after earlier ones', async () => {
    const admin = await t.login();
    await t
      .http()
      .post('/api/webhooks')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'ids', url: `${receiver.url}/in`, events: ['backup.created'] })
      .expect(201);
    const before = Date.now();
    const emit = async (n: number): Promise<string> =>
      (await t.http().post('/api/events').set('Authorization', `Bearer ${admin}`).send({ type: 'backup.created', data: { n } }).expect(202)).body.id as string;
    const first = await emit(1);
    await new Promise((r) => setTimeout(r, 5));
    const second = await emit(2);
    await receiver.waitFor(2);
    const after = Date.now();

    for (const id of [first, second]) {
      expect(id).toMatch(V7);
      expect(millis(id)).toBeGreaterThanOrEqual(before - 1000); // the database's clock may differ from ours a little
      expect(millis(id)).toBeLessThanOrEqual(after + 1000);
    }
    expect(second > first).toBe(true);

    const deliveries = receiver.requests.map((r) => String(r.headers['x-atlas-delivery']));
    for (const id of deliveries) {
      expect(id).toMatch(V7);
      expect(millis(id)).toBeGreaterThanOrEqual(before - 1000);
      expect(millis(id)).toBeLessThanOrEqual(after + 1000);
    }
    // the log keeps the delivery's id
    let logged: Array<{ id: string }> = [];
    for (let tries = 0; logged.length < 2 && tries < 100; tries++) {
      logged = await queryDb<{ id: string }>(t.databaseUrl, `SELECT id::text AS id FROM webhook_logs ORDER BY id`);
      if (logged.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    expect(logged.map((r) => r.id)).toEqual([...deliveries].sort());
  });
});
