/**
 * The event bodies a delivery needs are looked up in the last day's partitions
 * of the event store first (EventsService.bodiesFor): an attempt of an older
 * event (a retry after a long outage, a redelivery) still gets its body from
 * the older partitions, together with recent ones.
 */
import { CaptureServer } from '../utils/capture-server';
import { queryDb } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

describe('delivery of events older than a day', () => {
  let t: TestApp;
  const receiver = new CaptureServer();

  beforeAll(async () => {
    [t] = await Promise.all([createTestApp(), receiver.start()]);
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  it('sends the stored body of an event three days old and of a recent one, queued together', async () => {
    const admin = await t.login();
    const hookId = (
      await t
        .http()
        .post('/api/webhooks')
        .set('Authorization', `Bearer ${admin}`)
        .send({ name: 'old', url: `${receiver.url}/in`, events: ['backup.created'], retry_enabled: false })
        .expect(201)
    ).body.id as string;
    await queryDb(
      t.databaseUrl,
      `WITH e AS (
         INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
         VALUES (gen_random_uuid(), 'backup.created', '{"age":"three days"}', now() - interval '3 days', now() - interval '3 days'),
                (gen_random_uuid(), 'backup.created', '{"age":"a minute"}', now() - interval '1 minute', now() - interval '1 minute')
         RETURNING id, created_at)
       INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at, created_at)
       SELECT $1, e.id, e.created_at, 'backup.created', 1, 'event', now(), now() FROM e`,
      [hookId],
    );
    await receiver.waitFor(2);
    const ages = receiver.requests.map((r) => (JSON.parse(r.body) as { data: { age: string } }).data.age).sort();
    expect(ages).toEqual(['a minute', 'three days']);
  });
});
