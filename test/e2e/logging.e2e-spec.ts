import { CaptureServer, eventually } from '../utils/capture-server';
import { ServiceProcess, startService } from '../utils/service-process';
import { createTestDatabase } from '../utils/test-database';

interface LogLine {
  level: string;
  pid: number;
  timestamp: number;
  context?: string;
  message: unknown;
}

interface DeliveryFields {
  msg: string;
  status: string;
  webhook_id: string;
  webhook_host: string;
  event_id: string;
  event_type: string;
  attempt: number;
  trigger: string;
  status_code: number | null;
  duration_ms: number;
  next_retry_at: string | null;
  error?: string | null;
}

/**
 * The built service (dist/src/main.js, `npm run build` first) in production
 * mode: every line it prints is one JSON object, each delivery attempt is
 * logged with its identifiers and outcome, and no secret is ever printed.
 */
describe('Logs of the built service in production (e2e)', () => {
  const ADMIN_PASSWORD = 'log-test-admin-password-7f3a';
  const JWT_SECRET = 'log-test-jwt-secret-0123456789abcdefghijklmn';
  const WEBHOOK_SECRET = 'log-test-webhook-secret-9c1d2e3f4a5b';
  const URL_TOKEN = 'url-query-token-5e6f7a8b';
  const HEADER_TOKEN = 'custom-header-token-3d4c5b6a';
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: ServiceProcess | undefined;
  let receiver: CaptureServer;

  beforeAll(async () => {
    receiver = await new CaptureServer((req) => (req.path.startsWith('/fail') ? { status: 500, body: 'broken' } : { status: 200, body: 'ok' })).start();
    db = await createTestDatabase();
    svc = await startService(db.url, {
      NODE_ENV: 'production',
      JWT_SECRET,
      LOG_LEVEL: 'debug',
      ADMIN_PASSWORD,
      WEBHOOK_RETRY_SCHEDULE: '1h',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await db?.drop();
  });

  async function api(path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${svc!.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  function parseLines(output: string): LogLine[] {
    const lines = output.split('\n').filter((l) => l.trim() !== '');
    const notJson = lines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    return lines.map((l) => JSON.parse(l) as LogLine);
  }

  const deliveryLines = (lines: LogLine[]) =>
    lines.filter((l) => l.context === 'Delivery' && typeof l.message === 'object' && l.message !== null && 'webhook_id' in l.message) as Array<
      LogLine & { message: DeliveryFields }
    >;

  it('prints JSON lines: debug for a success, warn for a failure, with ids, attempt, status and duration, and no secrets', async () => {
    const login = await api('/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    expect(login.status).toBe(200);
    const jwt = login.body.access_token as string;

    const ok = await api(
      '/api/webhooks',
      {
        url: `${receiver.url}/ok?token=${URL_TOKEN}`,
        name: 'ok',
        events: ['backup.created'],
        secret: WEBHOOK_SECRET,
        headers: { Authorization: `Bearer ${HEADER_TOKEN}` },
      },
      jwt,
    );
    const bad = await api(
      '/api/webhooks',
      { url: `${receiver.url}/fail?token=${URL_TOKEN}`, name: 'bad', events: ['system.error'], secret: WEBHOOK_SECRET, headers: { 'X-Api-Key': HEADER_TOKEN } },
      jwt,
    );
    expect([ok.status, bad.status]).toEqual([201, 201]);
    const good = await api('/api/events', { type: 'backup.created', data: { backup: 'nightly' } }, jwt);
    const failed = await api('/api/events', { type: 'system.error', data: { message: 'disk full' } }, jwt);
    expect([good.status, failed.status]).toEqual([202, 202]);
    await receiver.waitFor(2);

    // both attempts logged (the lines are written when the attempts end)
    await eventually(() => deliveryLines(parseLines(svc!.output())).length >= 2);
    const exit = await svc!.stop();
    expect(exit.code).toBe(0);

    const output = svc!.output();
    const lines = parseLines(output);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(line).toEqual(expect.objectContaining({ level: expect.any(String), pid: expect.any(Number), timestamp: expect.any(Number) }));
    }
    expect(lines.some((l) => l.level === 'log' && String(l.message).startsWith('ATLAS Webhooks listening on'))).toBe(true);

    const deliveries = deliveryLines(lines);
    expect(deliveries).toHaveLength(2);
    const success = deliveries.find((l) => l.message.webhook_id === ok.body.id)!;
    expect(success.level).toBe('debug');
    expect(success.message).toEqual({
      msg: 'delivery succeeded',
      status: 'succeeded',
      webhook_id: ok.body.id,
      webhook_host: `127.0.0.1:${receiver.port}`,
      event_id: good.body.id,
      event_type: 'backup.created',
      attempt: 1,
      trigger: 'event',
      status_code: 200,
      duration_ms: expect.any(Number),
      next_retry_at: null,
    });
    const failure = deliveries.find((l) => l.message.webhook_id === bad.body.id)!;
    expect(failure.level).toBe('warn');
    expect(failure.message).toEqual({
      msg: 'delivery failed',
      status: 'failed',
      webhook_id: bad.body.id,
      webhook_host: `127.0.0.1:${receiver.port}`,
      event_id: failed.body.id,
      event_type: 'system.error',
      attempt: 1,
      trigger: 'event',
      status_code: 500,
      duration_ms: expect.any(Number),
      next_retry_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      error: 'HTTP 500 Internal Server Error',
    });
    expect(success.message.duration_ms).toBeGreaterThanOrEqual(0);
    expect(failure.message.duration_ms).toBeLessThan(10_000);

    // never a secret, a password, a token, a custom header's value, nor a webhook URL's path or query
    expect(receiver.requests.map((r) => r.headers.authorization ?? r.headers['x-api-key'])).toEqual(
      expect.arrayContaining([`Bearer ${HEADER_TOKEN}`, HEADER_TOKEN]),
    );
    for (const leak of [WEBHOOK_SECRET, ADMIN_PASSWORD, JWT_SECRET, jwt, URL_TOKEN, HEADER_TOKEN, '/fail?', '/ok?']) {
      expect(output).not.toContain(leak);
    }
  });
});
