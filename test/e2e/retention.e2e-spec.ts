/**
 * Retention: attempts and events older than WEBHOOK_LOG_RETENTION_DAYS are
 * deleted in batches; queued attempts (pending, sending) and their events stay.
 */
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { RETENTION_BATCH, RETENTION_INTERVAL, RETENTION_LOCK_KEY, RetentionJob } from '../../src/delivery/retention.job';
import { EventsService } from '../../src/events/events.service';
import { eventually } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

describe('Retention (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let webhookId: string;

  beforeAll(async () => {
    t = await createTestApp({ WEBHOOK_LOG_RETENTION_DAYS: '30' });
    db = t.app.get(DataSource);
    const token = await t.login();
    const res = await t
      .http()
      .post('/api/webhooks')
      .set({ Authorization: `Bearer ${token}` })
      .send({ url: 'http://127.0.0.1:9/never', name: 'retention', events: ['backup.created'] })
      .expect(201);
    webhookId = res.body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Inserts an event `ageDays` old (already fanned out) and returns its id. */
  async function insertEvent(ageDays: number, label: string): Promise<string> {
    const [row] = await db.query(
      `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
       VALUES (gen_random_uuid(), 'backup.created', $1::json, now() - make_interval(days => $2), now() - make_interval(days => $2))
       RETURNING id`,
      [JSON.stringify({ label }), ageDays],
    );
    return row.id;
  }

  /** Inserts `n` attempts of one event, `ageDays` old, with the given status. */
  async function insertAttempts(eventId: string, n: number, ageDays: number, status: string, extra = ''): Promise<void> {
    await db.query(
      `INSERT INTO webhook_logs (webhook_id, event_id, event_type, attempt, trigger, status, success, scheduled_at, created_at, locked_until, finished_at)
       SELECT $1, $2, 'backup.created', g + 1, 'event', $4::text,
              CASE $4::text WHEN 'succeeded' THEN true WHEN 'pending' THEN NULL WHEN 'sending' THEN NULL ELSE false END,
              ${extra === 'future' ? "now() + interval '1 day'" : 'now() - make_interval(days => $5::int)'},
              now() - make_interval(days => $5::int),
              CASE $4::text WHEN 'sending' THEN now() + interval '1 day' END,
              CASE WHEN $4::text IN ('succeeded', 'failed', 'cancelled') THEN now() - make_interval(days => $5::int) END
       FROM generate_series(1, $3::int) AS g`,
      [webhookId, eventId, n, status, ageDays],
    );
  }

  const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.query(sql, params))[0].n);

  it('deletes old attempts and events in batches, keeps recent rows and queued work', async () => {
    // old, finished: more than two batches of attempts over three events
    const oldEvents = [await insertEvent(40, 'old-1'), await insertEvent(40, 'old-2'), await insertEvent(40, 'old-3')];
    const oldAttempts = 2 * RETENTION_BATCH + 1;
    await insertAttempts(oldEvents[0], RETENTION_BATCH, 40, 'failed');
    await insertAttempts(oldEvents[1], RETENTION_BATCH, 40, 'succeeded');
    await insertAttempts(oldEvents[2], 1, 40, 'cancelled');
    // old, but queued: a pending retry and an attempt in flight (leased for a day, so nobody touches them)
    const pendingEvent = await insertEvent(40, 'old-pending');
    await insertAttempts(pendingEvent, 1, 40, 'failed');
    await insertAttempts(pendingEvent, 1, 40, 'pending', 'future');
    const sendingEvent = await insertEvent(41, 'old-sending');
    await insertAttempts(sendingEvent, 1, 41, 'sending');
    // recent
    const recentEvent = await insertEvent(29, 'recent');
    await insertAttempts(recentEvent, 3, 29, 'failed');
    const freshEvent = await insertEvent(0, 'fresh');
    await insertAttempts(freshEvent, 2, 0, 'succeeded');

    const job = t.app.get(RetentionJob);
    const result = await job.runOnce();

    // the old failed attempt of the pending event is finished, so it goes; the events with queued work stay
    expect(result).toEqual({ attempts: oldAttempts + 1, events: 3 });
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE id = ANY($1::uuid[])`, [oldEvents])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = ANY($1::uuid[])`, [oldEvents])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE created_at < now() - interval '30 days'`)).toBe(2);
    const kept = await db.query(`SELECT event_id, status FROM webhook_logs ORDER BY created_at`);
    expect(kept).toEqual(
      expect.arrayContaining([
        { event_id: sendingEvent, status: 'sending' },
        { event_id: pendingEvent, status: 'pending' },
      ]),
    );
    expect(kept.filter((r: { event_id: string }) => r.event_id === recentEvent)).toHaveLength(3);
    expect(kept.filter((r: { event_id: string }) => r.event_id === freshEvent)).toHaveLength(2);
    expect(kept).toHaveLength(7);
    const events = (await db.query(`SELECT id FROM webhook_events`)).map((r: { id: string }) => r.id);
    expect(new Set(events)).toEqual(new Set([pendingEvent, sendingEvent, recentEvent, freshEvent]));

    // a second pass has nothing left to do
    await expect(job.runOnce()).resolves.toEqual({ attempts: 0, events: 0 });
  });

  it('runs on one instance at a time: while another holds the retention lock, a pass is skipped and deletes nothing', async () => {
    const old = await insertEvent(45, 'locked-out');
    await insertAttempts(old, 2, 45, 'failed');
    const job = t.app.get(RetentionJob);
    const other = db.createQueryRunner(); // another instance's session, holding the lock
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1::bigint)', [RETENTION_LOCK_KEY]);
      await expect(job.runOnce()).resolves.toEqual({ skipped: true, attempts: 0, events: 0 });
      expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = $1`, [old])).toBe(2);
      await other.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
      await expect(job.runOnce()).resolves.toEqual({ attempts: 2, events: 1 });
      expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = $1`, [old])).toBe(0);
      // the lock is released after a pass: another instance can take it
      const [{ locked }] = await other.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [RETENTION_LOCK_KEY]);
      expect(locked).toBe(true);
      await other.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
    } finally {
      await other.release();
    }
  });

  it('runs on a schedule on worker instances only', async () => {
    expect(t.app.get(SchedulerRegistry).getIntervals()).toContain(RETENTION_INTERVAL);
    const api = await createTestApp({ WEBHOOK_WORKER: 'false' });
    try {
      expect(api.app.get(SchedulerRegistry).getIntervals()).not.toContain(RETENTION_INTERVAL);
    } finally {
      await api.close();
    }
  });

  describe('an attempt queued for an old event while retention deletes it', () => {
    const pendingInsert = (eventId: string) =>
      `INSERT INTO webhook_logs (webhook_id, event_id, event_type, attempt, trigger, status, scheduled_at)
       VALUES ('${webhookId}', '${eventId}', 'backup.created', 2, 'redeliver', 'pending', now() + interval '1 day')`;

    it('is seen when its insert is still open: the event is skipped, the attempt stays', async () => {
      const eventId = await insertEvent(50, 'racing-open');
      await insertAttempts(eventId, 1, 50, 'failed');
      const other = db.createQueryRunner();
      await other.connect();
      try {
        await other.startTransaction();
        await other.query(pendingInsert(eventId)); // holds a key-share lock on the event until it commits
        const result = await t.app.get(RetentionJob).runOnce();
        expect(result.events).toBe(0);
        await other.commitTransaction();
      } finally {
        if (other.isTransactionActive) await other.rollbackTransaction();
        await other.release();
      }
      expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE id = $1`, [eventId])).toBe(1);
      expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = $1 AND status = 'pending'`, [eventId])).toBe(1);
      await db.query(`DELETE FROM webhook_events WHERE id = $1`, [eventId]);
    });

    it('is never deleted unseen: one that starts after the batch locks waits, then fails on the missing event', async () => {
      const eventId = await insertEvent(50, 'racing-late');
      let late: Promise<unknown> | undefined;
      const events = t.app.get(EventsService);
      const batch = await events.deleteOlderThan(new Date(Date.now() - 30 * 24 * 3600 * 1000), RETENTION_BATCH, {
        stillNeeded: async (manager, ids) => {
          expect(ids).toContain(eventId);
          // another connection queues an attempt for the locked event now: it has to wait for this transaction
          late = db.query(pendingInsert(eventId)).then(
            () => 'inserted',
            (err: { code?: string }) => err.code,
          );
          await eventually(
            async () => {
              const [row] = await manager.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
              );
              return row.n > 0;
            },
            5000,
            20,
          );
          return [];
        },
      });
      expect(batch.deleted).toBeGreaterThanOrEqual(1);
      // the insert failed loudly (foreign key), rather than committing a row the cascade then removed
      await expect(late).resolves.toBe('23503');
      expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = $1`, [eventId])).toBe(0);
    });
  });
});
