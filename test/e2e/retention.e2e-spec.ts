/**
 * Partition upkeep and retention: the attempt log and the event store keep
 * days ahead created; days older than WEBHOOK_LOG_RETENTION_DAYS are dropped
 * whole; queued attempts and the events they need stay.
 */
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { PARTITION_DAYS_AHEAD, RETENTION_INTERVAL, RETENTION_LOCK_KEY, RetentionJob } from '../../src/delivery/retention.job';
import { createDailyPartitions, listDailyPartitions, partitionName, utcDay } from '../../src/database/daily-partitions';
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

  const DAY = 86_400_000;
  const daysAgo = (n: number) => new Date(Date.now() - n * DAY);

  /** Inserts an event `ageDays` old (already fanned out unless told) and returns its id and time. */
  async function insertEvent(ageDays: number, label: string, fannedOut = true): Promise<{ id: string; at: Date }> {
    const [row] = await db.query<Array<{ id: string; created_at: Date }>>(
      `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at)
       VALUES (gen_random_uuid(), 'backup.created', $1::json, $2::timestamptz, CASE WHEN $3::boolean THEN $2::timestamptz END)
       RETURNING id, created_at`,
      [JSON.stringify({ label }), daysAgo(ageDays), fannedOut],
    );
    return { id: row.id, at: row.created_at };
  }

  /** Inserts `n` finished attempts of one event into the log, `ageDays` old. */
  async function insertLogged(event: { id: string; at: Date }, n: number, ageDays: number, status = 'failed'): Promise<void> {
    await db.query(
      `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, scheduled_at, created_at, finished_at)
       SELECT $1, $2, $3, 'backup.created', g, 'event', $5::text, $5::text = 'succeeded', $4::timestamptz, $4::timestamptz, $4::timestamptz FROM generate_series(1, $6::int) AS g`,
      [webhookId, event.id, event.at, daysAgo(ageDays), status, n],
    );
  }

  /** Queues an attempt of the event, due in a day (nobody sends it during the test). */
  async function insertQueued(event: { id: string; at: Date }): Promise<void> {
    await db.query(
      `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at)
       VALUES ($1, $2, $3, 'backup.created', 2, 'event', now() + interval '1 day')`,
      [webhookId, event.id, event.at],
    );
  }

  const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.query<Array<{ n: string }>>(sql, params))[0].n);
  const partitions = async (table: string) => (await listDailyPartitions(db, table)).map((p) => p.name);

  it('keeps the partitions of the next days created, for the log and the event store', async () => {
    const result = await t.app.get(RetentionJob).runOnce(false);
    expect(result.dropped).toEqual([]);
    for (const table of ['webhook_logs', 'webhook_events']) {
      const names = await partitions(table);
      for (let d = -1; d <= PARTITION_DAYS_AHEAD; d++) expect(names).toContain(partitionName(table, utcDay(daysAgo(-d))));
    }
    // a second pass creates nothing
    await expect(t.app.get(RetentionJob).runOnce(false)).resolves.toEqual({ created: [], dropped: [], deletedRows: 0 });
  });

  it('drops whole days older than the retention; keeps recent days, the days queued attempts need, and events not fanned out', async () => {
    // an installation running for a while: partitions for 40 and 41 days ago
    for (const table of ['webhook_logs', 'webhook_events']) {
      await createDailyPartitions(db, table, daysAgo(41), 2);
    }
    const old = await insertEvent(40, 'old');
    await insertLogged(old, 3, 40);
    const needed = await insertEvent(41, 'needed by the queue');
    await insertLogged(needed, 1, 41);
    await insertQueued(needed); // its retry is still queued: its event must stay
    const stray = await insertEvent(35, 'no partition for its day'); // lands in the default partitions
    await insertLogged(stray, 2, 35);
    const recent = await insertEvent(29, 'recent'); // inside the retention (default partitions too)
    await insertLogged(recent, 2, 29);
    const fresh = await insertEvent(0, 'fresh');
    await insertLogged(fresh, 1, 0, 'succeeded');

    const result = await t.app.get(RetentionJob).runOnce();
    const day = (n: number) => utcDay(daysAgo(n));
    expect(result.dropped).toEqual(
      expect.arrayContaining([partitionName('webhook_logs', day(41)), partitionName('webhook_logs', day(40)), partitionName('webhook_events', day(40))]),
    );
    expect(result.dropped).not.toContain(partitionName('webhook_events', day(41)));
    expect(result.deletedRows).toBe(3); // the stray event and its two attempts
    expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = ANY($1::uuid[])`, [[old.id, needed.id, stray.id]])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE id = ANY($1::uuid[])`, [[old.id, stray.id]])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE id = $1`, [needed.id])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM delivery_queue WHERE event_id = $1`, [needed.id])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = ANY($1::uuid[])`, [[recent.id, fresh.id]])).toBe(3);
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE id = ANY($1::uuid[])`, [[recent.id, fresh.id]])).toBe(2);

    // once the queue no longer needs it, its day goes too; then there is nothing left to do
    await db.query(`DELETE FROM delivery_queue WHERE event_id = $1`, [needed.id]);
    expect((await t.app.get(RetentionJob).runOnce()).dropped).toEqual([partitionName('webhook_events', day(41))]);
    await expect(t.app.get(RetentionJob).runOnce()).resolves.toEqual({ created: [], dropped: [], deletedRows: 0 });
  });

  it('an event not fanned out yet keeps its day', async () => {
    await createDailyPartitions(db, 'webhook_events', daysAgo(50), 1);
    const unfanned = await insertEvent(50, 'never fanned out', false);
    expect((await t.app.get(RetentionJob).runOnce()).dropped).not.toContain(partitionName('webhook_events', utcDay(daysAgo(50))));
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE id = $1`, [unfanned.id])).toBe(1);
    await db.query(`UPDATE webhook_events SET fanned_out_at = now() WHERE id = $1`, [unfanned.id]);
    expect((await t.app.get(RetentionJob).runOnce()).dropped).toEqual([partitionName('webhook_events', utcDay(daysAgo(50)))]);
  });

  it('runs on one instance at a time: while another holds the lock, a pass is skipped and drops nothing', async () => {
    await createDailyPartitions(db, 'webhook_logs', daysAgo(45), 1);
    const old = await insertEvent(45, 'locked-out');
    await insertLogged(old, 2, 45);
    const job = t.app.get(RetentionJob);
    const other = db.createQueryRunner(); // another instance's session, holding the lock
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1::bigint)', [RETENTION_LOCK_KEY]);
      await expect(job.runOnce()).resolves.toEqual({ skipped: true, created: [], dropped: [], deletedRows: 0 });
      expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = $1`, [old.id])).toBe(2);
      await other.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
      expect((await job.runOnce()).dropped).toContain(partitionName('webhook_logs', utcDay(daysAgo(45))));
      expect(await count(`SELECT count(*) AS n FROM webhook_logs WHERE event_id = $1`, [old.id])).toBe(0);
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

  it('a queued attempt whose event is gone is cancelled with the reason, not sent or retried forever', async () => {
    const gone = await insertEvent(0, 'gone');
    await db.query(
      `INSERT INTO delivery_queue (webhook_id, event_id, event_created_at, event_type, attempt, trigger, scheduled_at) VALUES ($1, $2, $3, 'backup.created', 2, 'event', now())`,
      [webhookId, gone.id, gone.at],
    );
    await db.query(`DELETE FROM webhook_events WHERE id = $1`, [gone.id]);
    const [row] = await eventually(async () => {
      const rows = await db.query<Array<{ status: string; error: string }>>(`SELECT status, error FROM webhook_logs WHERE event_id = $1`, [gone.id]);
      return rows.length ? rows : null;
    });
    expect(row).toEqual({ status: 'cancelled', error: 'cancelled: its event no longer exists (retention)' });
    expect(await count(`SELECT count(*) AS n FROM delivery_queue WHERE event_id = $1`, [gone.id])).toBe(0);
  });
});
