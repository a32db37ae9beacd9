/**
 * Deleting a webhook while its attempts are being sent leaves nothing of it
 * behind: the attempt log has no foreign key to webhooks, and the deletion
 * removes the log in its transaction after the queue's cascade, so a result
 * write that finishes after the deletion finds its queue row gone and logs
 * nothing, and one that finished before is deleted with the rest.
 */
import { CaptureServer } from '../utils/capture-server';
import { queryDb } from '../utils/delivery-db';
import { createTestApp, TestApp } from '../utils/test-app';

const HELD_MS = 1500;

describe('deleting a webhook with attempts in flight', () => {
  let t: TestApp;
  // the other webhook and the doomed one's first two are answered at once (logged before the delete); the doomed one's others are held until after it
  let doomedSeen = 0;
  const receiver = new CaptureServer((req) => ({ status: 200, body: 'ok', delayMs: req.path.startsWith('/doomed') && ++doomedSeen > 2 ? HELD_MS : 0 }));

  beforeAll(async () => {
    [t] = await Promise.all([createTestApp(), receiver.start()]);
  });
  afterAll(async () => {
    await t?.close();
    await receiver.close();
  });

  it('leaves no attempt of it in the log or the queue, and other webhooks keep theirs', async () => {
    const admin = await t.login();
    const create = async (name: string, url: string): Promise<string> =>
      (
        await t
          .http()
          .post('/api/webhooks')
          .set('Authorization', `Bearer ${admin}`)
          .send({ name, url, events: ['backup.created'], retry_enabled: false })
          .expect(201)
      ).body.id as string;
    const doomed = await create('doomed', `${receiver.url}/doomed`);
    const kept = await create('kept', `${receiver.url}/kept`);
    for (let i = 0; i < 12; i++) {
      await t.http().post('/api/events').set('Authorization', `Bearer ${admin}`).send({ type: 'backup.created', data: { i } }).expect(202);
    }
    const logged = async (id: string): Promise<number> =>
      (await queryDb<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM webhook_logs WHERE webhook_id = $1`, [id]))[0].n;
    const queued = async (id: string): Promise<number> =>
      (await queryDb<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM delivery_queue WHERE webhook_id = $1`, [id]))[0].n;
    // two of the doomed webhook's attempts are in its log, others are being sent
    for (let tries = 0; (await logged(doomed)) < 2 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 50));
    expect(await logged(doomed)).toBeGreaterThanOrEqual(2);
    expect(doomedSeen).toBeGreaterThan(2);
    expect(await logged(doomed)).toBeLessThan(12); // the held ones are still in flight

    await t.http().delete(`/api/webhooks/${doomed}`).set('Authorization', `Bearer ${admin}`).expect(204);
    expect(await logged(doomed)).toBe(0);
    expect(await queued(doomed)).toBe(0);

    // the other webhook's attempts all answered and recorded; the deleted one's queued attempts went with it
    let keptLogged = 0;
    for (let tries = 0; keptLogged < 12 && tries < 100; tries++) {
      keptLogged = (await queryDb<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM webhook_logs WHERE webhook_id = $1`, [kept]))[0].n;
      if (keptLogged < 12) await new Promise((r) => setTimeout(r, 50));
    }
    expect(keptLogged).toBe(12);
    await new Promise((r) => setTimeout(r, HELD_MS + 300)); // the held answers have come back: their result writes are done
    expect(await logged(doomed)).toBe(0);
  });
});
