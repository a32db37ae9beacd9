/**
 * "Delivery you can trust", failure mode 1: the process dies (kill -9) in the
 * middle of a burst. The built service runs as a child process on a database
 * of its own; real loopback receivers count what arrives.
 *
 * Promise under test (DESIGN §5): every event answered 202 reaches every
 * subscribed endpoint at least once after a restart on the same database;
 * duplicates are limited to the attempts in flight at the moment of the kill
 * (the rows left `sending`), which are sent again once their lease expires;
 * an event committed but never fanned out is fanned out by the next process.
 */
import { randomUUID } from 'node:crypto';
import { CaptureServer, eventually } from '../utils/capture-server';
import { attemptsIn, attemptsPerPair, attemptStatusCounts, queryDb, unfannedEventCount } from '../utils/delivery-db';
import { deliveryIdOf, Endpoint, eventIdOf, subscribes, tally } from '../utils/delivery-tally';
import { createWebhookAt, emitBurst, loginTo, sleep } from '../utils/service-api';
import { ServiceProcess, startService } from '../utils/service-process';
import { createTestDatabase } from '../utils/test-database';

const EVENTS = 300;
const KILL_AFTER_ACKS = 120;
const LEASE_MS = 3000;
const SLOW_MS = 300;
const ENV = { WEBHOOK_LEASE_MS: `${LEASE_MS}ms`, WEBHOOK_SWEEP_INTERVAL_MS: '200ms', WEBHOOK_MAX_IN_FLIGHT: '64', WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '8' };

describe('crash: kill -9 mid-burst, restart on the same database', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const children: ServiceProcess[] = [];
  let endpoints: Endpoint[];
  /** Requests the slow endpoint has received and not answered yet. */
  let slowInFlight = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    endpoints = [
      // slow: attempts are still in flight when the process dies
      {
        name: 'slow',
        receiver: await new CaptureServer(() => {
          slowInFlight++;
          setTimeout(() => slowInFlight--, SLOW_MS);
          return { status: 200, body: 'ok', delayMs: SLOW_MS };
        }).start(),
        events: ['service.*'],
      },
      { name: 'all', receiver: await new CaptureServer().start(), events: ['*'] },
      { name: 'users', receiver: await new CaptureServer().start(), events: ['user.created', 'user.deleted'] },
    ];
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await Promise.all((endpoints ?? []).map((e) => e.receiver.close()));
    await db?.drop();
  });

  it('delivers every acknowledged event after a restart, re-sending only what was in flight', async () => {
    const first = await startService(db.url, ENV);
    children.push(first);
    const token = await loginTo(first.baseUrl);
    for (const ep of endpoints) await createWebhookAt(first.baseUrl, token, { url: `${ep.receiver.url}/${ep.name}`, name: ep.name, events: ep.events });

    // The burst. Once KILL_AFTER_ACKS events are acknowledged and the slow endpoint holds a request it has
    // not answered yet, the process is killed with SIGKILL: no shutdown hook runs, attempts are cut mid-flight.
    let killed = false;
    let acks = 0;
    const killer = (async () => {
      const deadline = Date.now() + 30000;
      while (!killed && Date.now() < deadline) {
        if (acks >= KILL_AFTER_ACKS && slowInFlight > 0) {
          killed = true;
          first.kill('SIGKILL');
          return;
        }
        await sleep(5);
      }
    })();
    const burst = await emitBurst([{ baseUrl: first.baseUrl, token }], EVENTS, {
      concurrency: 16,
      typeOf: (i) => (i % 2 === 0 ? 'service.started' : 'user.created'),
      stop: () => killed,
      onAcknowledged: (n) => (acks = n),
    });
    await killer;
    if (!killed) throw new Error(`the slow endpoint never had a request in flight after ${acks} acknowledgements:\n${first.output().slice(-3000)}`);
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    const acknowledged = burst.acknowledged;
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    // What the dead process left behind.
    const leftSending = await attemptsIn(db.url, 'sending');
    const atKill = await attemptStatusCounts(db.url);
    const unfannedAtKill = await unfannedEventCount(db.url);
    const deliveredBeforeRestart = endpoints.reduce((n, e) => n + e.receiver.requests.length, 0);
    // The slow endpoint guarantees attempts in flight at the kill; without them this test would prove nothing.
    expect(leftSending.length).toBeGreaterThan(0);
    // Leased rows are the attempts in flight, those answered whose results were not committed yet, and those
    // held in the waiting room for the next free slot (not sent: each must arrive exactly once, checked below).

    // An event committed but never fanned out (as if the process died right after the insert's commit).
    const orphan = { id: randomUUID(), type: 'user.deleted' };
    await queryDb(
      db.url,
      `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at) VALUES ($1, $2, $3::json, now() - interval '5 seconds', NULL)`,
      [orphan.id, orphan.type, JSON.stringify({ seq: 'orphan' })],
    );

    const restartedAt = Date.now();
    const second = await startService(db.url, ENV);
    children.push(second);

    const expectedEvents = [...acknowledged, orphan];
    const report = await eventually(
      () => {
        const r = tally(endpoints, expectedEvents);
        return r.missing.length === 0 ? r : null;
      },
      40000,
      200,
    ).catch(() => {
      const r = tally(endpoints, expectedEvents);
      throw new Error(
        `${r.missing.length} of ${r.expected} (endpoint, event) deliveries never arrived, e.g. ${r.missing.slice(0, 5).join(', ')}\n${second.output().slice(-3000)}`,
      );
    });
    // Let anything still queued finish, then nothing may be left in the queue.
    await eventually(async () => {
      const c = await attemptStatusCounts(db.url);
      return c.pending === 0 && c.sending === 0 ? c : null;
    }, 15000);
    const final = tally(endpoints, expectedEvents);

    console.log(
      `crash: acknowledged=${acknowledged.length} (of ${EVENTS}, ${burst.failed} failed at the kill) ` +
        `expected deliveries=${final.expected} delivered=${final.delivered} duplicates=${final.duplicates} ` +
        `in flight at kill (sending rows)=${leftSending.length} pending at kill=${atKill.pending} unfanned at kill=${unfannedAtKill} ` +
        `received before restart=${deliveredBeforeRestart} received total=${JSON.stringify(final.received)}`,
    );

    expect(report.delivered).toBe(report.expected);
    // Duplicates are limited to the attempts in flight at the kill, and every repeat is one of those rows sent again.
    expect(final.duplicates).toBeLessThanOrEqual(leftSending.length);
    // A repeat is an attempt the dead process had sent (on the wire, or answered with its result still in the
    // writer's batch, not committed) and the new one sent again: one arrival before the restart, one after. The
    // in-flight limit does not bound them, since a result leaves its slot before its batch commits.
    const inFlightIds = new Set(leftSending.map((r) => r.id));
    const byEndpoint = new Map(endpoints.map((e) => [e.name, e.receiver]));
    for (const pair of final.duplicatePairs) {
      const arrivals = byEndpoint
        .get(pair.endpoint)!
        .requests.filter((r) => eventIdOf(r) === pair.eventId)
        .map((r) => (r.receivedAt < restartedAt ? 'before restart' : 'after restart'));
      expect({ pair, inFlight: pair.deliveryIds.every((id) => inFlightIds.has(id)), arrivals }).toEqual({
        pair,
        inFlight: true,
        arrivals: ['before restart', 'after restart'],
      });
    }

    // Each row left `sending` was re-sent by the new process after its lease expired, and succeeded.
    const resent = new Map(
      endpoints.flatMap((e) => e.receiver.requests.filter((r) => r.receivedAt >= restartedAt).map((r) => [deliveryIdOf(r), r.receivedAt] as const)),
    );
    for (const row of leftSending) {
      const at = resent.get(row.id);
      expect({ row: row.id, resentAfterRestart: at !== undefined }).toEqual({ row: row.id, resentAfterRestart: true });
      expect(at!).toBeGreaterThanOrEqual(row.locked_until!.getTime() - 50);
    }
    const rows = await queryDb<{ id: string; status: string }>(db.url, `SELECT id, status FROM webhook_attempts WHERE id = ANY($1::uuid[])`, [
      [...inFlightIds],
    ]);
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
    expect(second.output()).toMatch(/outlived their lease/);

    // The orphan event was fanned out by the new process and reached its one subscriber.
    const [orphanRow] = await queryDb<{ fanned_out_at: Date | null }>(db.url, `SELECT fanned_out_at FROM webhook_events WHERE id = $1`, [orphan.id]);
    expect(orphanRow.fanned_out_at).not.toBeNull();
    expect(endpoints.filter((e) => subscribes(e.events, orphan.type)).map((e) => e.name)).toEqual(['all', 'users']);

    // The database agrees: one succeeded attempt per (event, subscribed webhook) for every acknowledged event.
    const pairs = await attemptsPerPair(db.url);
    const ackIds = new Set(expectedEvents.map((e) => e.id));
    const ackPairs = pairs.filter((p) => ackIds.has(p.event_id));
    expect(ackPairs).toHaveLength(final.expected);
    expect(ackPairs.filter((p) => p.succeeded !== 1)).toEqual([]);
  });
});
