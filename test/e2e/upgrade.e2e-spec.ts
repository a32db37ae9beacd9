/**
 * An installation upgraded from the schema before the queue/log split and
 * the daily partitions, with rows in it: finished attempts move to the
 * partitioned log, pending and sending ones to the queue (a lease kept),
 * events to the partitioned event store, and the service then delivers what
 * was queued.
 */
import { DataSource } from 'typeorm';
import { InitialSchema1795874337952 } from '../../migrations/1795874337952-InitialSchema';
import { StatsIndexes1795880000000 } from '../../migrations/1795880000000-StatsIndexes';
import { MaskLoggedCustomHeaders1795890000000 } from '../../migrations/1795890000000-MaskLoggedCustomHeaders';
import { AttemptStatusCheck1795900000000 } from '../../migrations/1795900000000-AttemptStatusCheck';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { listDailyPartitions, partitionName, utcDay } from '../../src/database/daily-partitions';
import { CaptureServer, eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';
import { createEmptyDatabase, TestDatabase } from '../utils/test-database';

const DAY = 86_400_000;

describe('Upgrade from the unpartitioned schema (e2e)', () => {
  let db: TestDatabase;
  let receiver: CaptureServer;
  let app: TestApp | undefined;
  const ids = { webhook: '', oldEvent: '', newEvent: '' };

  beforeAll(async () => {
    receiver = await new CaptureServer().start();
    db = await createEmptyDatabase();
    const before = await new DataSource({
      ...dataSourceOptions(db.url, 1),
      migrations: [InitialSchema1795874337952, StatsIndexes1795880000000, MaskLoggedCustomHeaders1795890000000, AttemptStatusCheck1795900000000],
    }).initialize();
    try {
      await before.runMigrations({ transaction: 'each' });
      // yesterday's schema, with a day of history 10 days ago and today's queue
      [{ id: ids.webhook }] = await before.query<Array<{ id: string }>>(
        `INSERT INTO webhooks (name, url, secret, events) VALUES ('old', $1, 'old-secret', '{backup.created}') RETURNING id`,
        [`${receiver.url}/upgraded`],
      );
      [{ id: ids.oldEvent }] = await before.query<Array<{ id: string }>>(
        `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at) VALUES (gen_random_uuid(), 'backup.created', '{"n":1}', now() - interval '10 days', now() - interval '10 days') RETURNING id`,
      );
      [{ id: ids.newEvent }] = await before.query<Array<{ id: string }>>(
        `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at) VALUES (gen_random_uuid(), 'backup.created', '{"n":2}', now(), now()) RETURNING id`,
      );
      await before.query(
        `INSERT INTO webhook_logs (webhook_id, event_id, event_type, attempt, trigger, status, success, status_code, duration_ms, scheduled_at, created_at, finished_at)
         VALUES ($1, $2, 'backup.created', 1, 'event', 'failed', false, 500, 12, now() - interval '10 days', now() - interval '10 days', now() - interval '10 days'),
                ($1, $2, 'backup.created', 2, 'event', 'succeeded', true, 200, 8, now() - interval '10 days', now() - interval '10 days', now() - interval '10 days'),
                ($1, $3, 'backup.created', 1, 'event', 'failed', false, 503, 9, now(), now(), now())`,
        [ids.webhook, ids.oldEvent, ids.newEvent],
      );
      // the retry of the new event: one pending (due now), and one another instance holds for a day
      await before.query(
        `INSERT INTO webhook_logs (webhook_id, event_id, event_type, attempt, trigger, status, scheduled_at, locked_until, started_at)
         VALUES ($1, $2, 'backup.created', 2, 'event', 'pending', now(), NULL, NULL),
                ($1, $2, 'backup.created', 1, 'redeliver', 'sending', now(), now() + interval '1 day', now())`,
        [ids.webhook, ids.newEvent],
      );
    } finally {
      await before.destroy();
    }
  });
  afterAll(async () => {
    await app?.close();
    await receiver.close();
    if (!app) await db.drop();
  });

  it('migrates the rows: finished to the log, queued to the queue, events to the event store, with partitions for their days', async () => {
    const after = await new DataSource(dataSourceOptions(db.url, 1)).initialize();
    try {
      // the partitioning first, then any migration added after it
      expect((await after.runMigrations({ transaction: 'each' })).map((m) => m.name)[0]).toBe('QueueAndDailyPartitions1795910000000');
      const log = await after.query<Array<{ status: string; attempt: number; event_id: string; p: string; event_created_at: Date }>>(
        `SELECT status, attempt, event_id, event_created_at, tableoid::regclass::text AS p FROM webhook_logs ORDER BY created_at, attempt`,
      );
      const tenDaysAgo = utcDay(new Date(Date.now() - 10 * DAY));
      expect(log.map((r) => [r.status, r.attempt, r.p])).toEqual([
        ['failed', 1, partitionName('webhook_logs', tenDaysAgo)],
        ['succeeded', 2, partitionName('webhook_logs', tenDaysAgo)],
        ['failed', 1, partitionName('webhook_logs', utcDay(new Date()))],
      ]);
      expect(utcDay(log[0].event_created_at)).toEqual(tenDaysAgo);
      const queue = await after.query<Array<{ attempt: number; trigger: string; leased: boolean }>>(
        `SELECT attempt, trigger, locked_until > now() AS leased FROM delivery_queue ORDER BY trigger`,
      );
      expect(queue).toEqual([
        { attempt: 2, trigger: 'event', leased: null },
        { attempt: 1, trigger: 'redeliver', leased: true },
      ]);
      const events = await after.query<Array<{ id: string; p: string }>>(`SELECT id, tableoid::regclass::text AS p FROM webhook_events ORDER BY created_at`);
      expect(events).toEqual([
        { id: ids.oldEvent, p: partitionName('webhook_events', tenDaysAgo) },
        { id: ids.newEvent, p: partitionName('webhook_events', utcDay(new Date())) },
      ]);
      // every day from the oldest row to a week ahead has its partition
      const days = (await listDailyPartitions(after, 'webhook_logs')).map((p) => p.day.getTime());
      for (let d = -10; d <= 7; d++) expect(days).toContain(utcDay(new Date(Date.now() + d * DAY)).getTime());
      const view = await after.query<Array<{ status: string }>>(`SELECT status FROM webhook_attempts WHERE webhook_id = $1 ORDER BY created_at, attempt`, [
        ids.webhook,
      ]);
      expect(view.map((r) => r.status).sort()).toEqual(['failed', 'failed', 'pending', 'sending', 'succeeded']);
    } finally {
      await after.destroy();
    }
  });

  it('the upgraded service shows the history and delivers the queued retry', async () => {
    app = await createTestApp({}, db);
    const token = await app.login();
    await receiver.waitFor(1);
    expect(receiver.requests[0].headers['x-atlas-attempt']).toBe('2');
    expect(receiver.requests[0].headers['webhook-id']).toBe(ids.newEvent);
    const logs = await eventually(async () => {
      const res = await app!
        .http()
        .get(`/api/webhooks/${ids.webhook}/logs?limit=50`)
        .set({ Authorization: `Bearer ${token}` })
        .expect(200);
      const items = res.body.items as Array<{ status: string; attempt: number; event_id: string }>;
      return items.some((l) => l.attempt === 2 && l.event_id === ids.newEvent && l.status === 'succeeded') ? items : null;
    });
    expect(logs.map((l) => l.status).sort()).toEqual(['failed', 'failed', 'sending', 'succeeded', 'succeeded']);
  });
});
