/**
 * What the attempt log keeps of each attempt, exactly as it happened: the
 * status, the request headers as sent, the response's headers and body
 * byte for byte (quotes, backslashes, braces, commas, newlines, non-ASCII:
 * everything the result write's encoding must carry), and for a request
 * that never got an answer, its error with no response at all and the
 * retry it scheduled.
 */
import { createServer } from 'node:net';
import { DataSource } from 'typeorm';
import { CaptureServer, eventually, Responder } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

/** Text that an array literal or a CSV-like encoding would break on. */
const AWKWARD = 'say "hi", {not: an, array} \\ back\\\\slash\nline two\ttab NULL null é 中文 😀 \u2028';

interface Detail {
  status: string;
  success: boolean;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  attempt: number;
  next_retry_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('The attempt log records each attempt exactly (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createTestApp({ WEBHOOK_RETRY_SCHEDULE: '1h' });
    receiver = await new CaptureServer((req): ReturnType<Responder> =>
      req.path.startsWith('/ok')
        ? { status: 200, headers: { 'X-Awkward': 'a "quoted", {braced} \\ value', 'Content-Type': 'text/plain; charset=utf-8' }, body: AWKWARD + '\u0000end' }
        : { status: 500, headers: { 'Content-Type': 'application/json' }, body: '{"error":"broken, \\"really\\""}' },
    ).start();
    token = await t.login();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function webhook(url: string, events: string[]): Promise<string> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url, name: `record ${events[0]}`, events })
      .expect(201);
    return res.body.id as string;
  }

  async function emit(type: string): Promise<string> {
    return (
      await t
        .http()
        .post('/api/events')
        .set(auth())
        .send({ type, data: { note: AWKWARD } })
        .expect(202)
    ).body.id as string;
  }

  /** The detail of the first attempt of `eventId` at `webhookId`, once it has finished (the list shows its queued retry too). */
  async function finishedAttempt(webhookId: string, eventId: string): Promise<Detail> {
    const item = await eventually(async () => {
      const res = await t.http().get(`/api/webhooks/${webhookId}/logs`).set(auth()).expect(200);
      const items = (res.body.items as Array<{ id: string; event_id: string; attempt: number; status: string }>).filter(
        (i) => i.event_id === eventId && i.attempt === 1,
      );
      return items.length === 1 && items[0].status !== 'pending' && items[0].status !== 'sending' ? items[0] : null;
    });
    return (await t.http().get(`/api/webhooks/${webhookId}/logs/${item.id}`).set(auth()).expect(200)).body as Detail;
  }

  it('a 200 keeps the response body and headers byte for byte, and the request headers as sent', async () => {
    const id = await webhook(`${receiver.url}/ok`, ['service.started']);
    const eventId = await emit('service.started');
    const d = await finishedAttempt(id, eventId);
    expect(d).toMatchObject({ status: 'succeeded', success: true, status_code: 200, error: null, attempt: 1, next_retry_at: null });
    // a NUL cannot be stored in PostgreSQL text: it is kept as U+FFFD, the rest exactly
    expect(d.response_body).toBe(AWKWARD + '\ufffdend');
    expect(d.response_headers?.['x-awkward']).toBe('a "quoted", {braced} \\ value');
    expect(d.response_headers?.['content-type']).toBe('text/plain; charset=utf-8');
    const sent = receiver.requests.find((r) => r.path.startsWith('/ok'))!;
    expect(d.request_headers?.['X-ATLAS-Signature']).toBe(sent.headers['x-atlas-signature']);
    expect(d.request_headers?.['X-ATLAS-Event']).toBe('service.started');
    expect(d.request_headers?.['webhook-id']).toBe(eventId);
    expect(typeof d.duration_ms).toBe('number');
    expect(new Date(d.finished_at!).getTime()).toBeGreaterThanOrEqual(new Date(d.started_at!).getTime());
  });

  it('a 500 keeps its status, body and error, and schedules the retry', async () => {
    const id = await webhook(`${receiver.url}/fail`, ['user.created']);
    const eventId = await emit('user.created');
    const d = await finishedAttempt(id, eventId);
    expect(d).toMatchObject({ status: 'failed', success: false, status_code: 500, attempt: 1, response_body: '{"error":"broken, \\"really\\""}' });
    expect(d.error).toContain('500');
    expect(d.response_headers?.['content-type']).toBe('application/json');
    // WEBHOOK_RETRY_SCHEDULE=1h, jittered by ±20 %: the retry is due 48 to 72 minutes after the attempt finished
    const delay = new Date(d.next_retry_at!).getTime() - new Date(d.finished_at!).getTime();
    expect(delay).toBeGreaterThanOrEqual(0.8 * 3_600_000 - 1000);
    expect(delay).toBeLessThanOrEqual(1.2 * 3_600_000 + 1000);
  });

  it('a refused connection keeps its error, no response at all, and schedules the retry', async () => {
    const id = await webhook(`http://127.0.0.1:${await closedPort()}/gone`, ['domain.created']);
    const eventId = await emit('domain.created');
    const d = await finishedAttempt(id, eventId);
    expect(d).toMatchObject({ status: 'failed', success: false, status_code: null, response_headers: null, response_body: null, attempt: 1 });
    expect(d.error).toMatch(/ECONNREFUSED|refused/i);
    expect(d.next_retry_at).not.toBeNull();
    expect(d.request_headers?.['X-ATLAS-Event']).toBe('domain.created');
    // stored as SQL NULL, not as a JSON null
    const [row] = await t.app
      .get(DataSource)
      .query(`SELECT response_headers IS NULL AS no_headers, response_body IS NULL AS no_body FROM webhook_logs WHERE webhook_id = $1`, [id]);
    expect(row).toEqual({ no_headers: true, no_body: true });
  });
});
