/**
 * SSRF: deliveries refuse loopback, private, link-local and other non-public
 * addresses at connect time (after DNS), logging why, unless the operator
 * allows the network in WEBHOOK_ALLOWED_NETWORKS. Redirects are never followed.
 *
 * No traffic may leave this machine: before a non-loopback URL is handed to
 * the app, the same guard the sender uses must already refuse it here, so a
 * broken guard fails the test instead of sending a packet.
 */
import { createServer, Server } from 'node:http';
import { createAddressGuard } from '../../src/delivery/sending/address-guard';
import { CaptureServer } from '../utils/capture-server';
import { createTestApp, TestApp } from '../utils/test-app';

/** A receiver on [::1] that counts requests. */
async function ipv6Receiver(): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    count: () => n,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when the guard (with these allowed networks) refuses the URL, by IP literal or DNS answer; rejects otherwise. */
async function guardRefuses(url: string, allowed: string[]): Promise<string> {
  const guard = createAddressGuard(allowed);
  const u = new URL(url);
  try {
    guard.checkUrlHost(u);
  } catch (err) {
    return (err as Error).message;
  }
  return new Promise((resolve, reject) =>
    guard.lookup(u.hostname, { all: true }, (err) => (err ? resolve(err.message) : reject(new Error(`the address guard lets ${url} through`)))),
  );
}

describe('SSRF guard (e2e)', () => {
  let receiver: CaptureServer;
  let v6: Awaited<ReturnType<typeof ipv6Receiver>>;

  beforeAll(async () => {
    receiver = await new CaptureServer().start();
    v6 = await ipv6Receiver();
  });
  afterAll(async () => {
    await receiver.close();
    await v6.close();
  });

  async function admin(t: TestApp) {
    const token = await t.login();
    return { Authorization: `Bearer ${token}` };
  }

  async function createWebhook(t: TestApp, auth: Record<string, string>, url: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await t
      .http()
      .post('/api/webhooks')
      .set(auth)
      .send({ url, name: 'ssrf', events: ['system.error'], timeout_ms: 1000, retry_enabled: false, ...extra })
      .expect(201);
    return res.body.id;
  }

  describe('with WEBHOOK_ALLOWED_NETWORKS empty', () => {
    let t: TestApp;
    let auth: Record<string, string>;

    beforeAll(async () => {
      t = await createTestApp({ WEBHOOK_ALLOWED_NETWORKS: '' });
      auth = await admin(t);
    });
    afterAll(async () => {
      await t.close();
    });

    // [url, what the error must name]; loopback ones point at our receivers
    const loopback: Array<[string, () => string, RegExp]> = [
      ['127.0.0.1', () => `http://127.0.0.1:${receiver.port}/hook`, /127\.0\.0\.1 \(loopback \(127\.0\.0\.0\/8\)\)/],
      ['localhost (DNS)', () => `http://localhost:${receiver.port}/hook`, /\(loopback .*\) for host localhost/],
      ['[::1]', () => `http://[::1]:${v6.port}/hook`, /::1 \(loopback \(::1\)\)/],
      ['[::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${receiver.port}/hook`, /loopback \(127\.0\.0\.0\/8\)/],
      ['0.0.0.0', () => `http://0.0.0.0:${receiver.port}/hook`, /0\.0\.0\.0 \(unspecified/],
      ['127.1.2.3', () => `http://127.1.2.3:${receiver.port}/hook`, /loopback/],
    ];
    const elsewhere: Array<[string, RegExp]> = [
      ['http://10.0.0.1/hook', /private \(RFC 1918\)/],
      ['http://172.16.0.1/hook', /private \(RFC 1918\)/],
      ['http://192.168.1.1/hook', /private \(RFC 1918\)/],
      ['http://169.254.169.254/latest/meta-data/', /link-local \(169\.254\.0\.0\/16, cloud metadata\)/],
      ['http://100.64.0.1/hook', /carrier-grade NAT/],
      ['http://224.0.0.1/hook', /multicast/],
      ['http://[fd00::1]/hook', /unique local \(fc00::\/7\)/],
      ['http://[fe80::1]/hook', /link-local \(fe80::\/10\)/],
    ];

    async function expectRefused(url: string, cause: RegExp): Promise<void> {
      // the guard the sender uses must refuse it before the app gets the URL
      await expect(guardRefuses(url, [])).resolves.toMatch(cause);
      const id = await createWebhook(t, auth, url);
      const res = await t.http().post(`/api/webhooks/${id}/test`).set(auth).expect(200);
      expect(res.body).toMatchObject({ success: false, status_code: null, response_body: null });
      expect(res.body.error).toMatch(cause);
      expect(res.body.error).toMatch(/non-public addresses are blocked; allow them with WEBHOOK_ALLOWED_NETWORKS/);
      expect(res.body.duration_ms).toBeLessThan(1000);
      const logs = await t.http().get(`/api/webhooks/${id}/logs`).set(auth).expect(200);
      expect(logs.body.items).toHaveLength(1);
      expect(logs.body.items[0]).toMatchObject({ id: res.body.log_id, status: 'failed', success: false, error: res.body.error });
    }

    it.each(loopback)('refuses %s and nothing reaches the receiver', async (_name, url, cause) => {
      await expectRefused(url(), cause);
      expect(receiver.requests).toHaveLength(0);
      expect(v6.count()).toBe(0);
    });

    it.each(elsewhere)('refuses %s before connecting', async (url, cause) => {
      await expectRefused(url, cause);
    });

    it('refuses event deliveries too, logging the attempt as failed', async () => {
      const id = await createWebhook(t, auth, `http://127.0.0.1:${receiver.port}/event`);
      await t
        .http()
        .post('/api/events')
        .set(auth)
        .send({ type: 'system.error', data: { n: 1 } })
        .expect(202);
      const started = Date.now();
      let items: Array<{ status: string; error: string | null; trigger: string }> = [];
      while (Date.now() - started < 10_000) {
        items = (await t.http().get(`/api/webhooks/${id}/logs`).set(auth).expect(200)).body.items;
        if (items.some((i) => i.status === 'failed')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ trigger: 'event', status: 'failed' });
      expect(items[0].error).toMatch(/loopback.*WEBHOOK_ALLOWED_NETWORKS/);
      expect(receiver.requests).toHaveLength(0);
    });
  });

  describe('with WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8', () => {
    let t: TestApp;
    let auth: Record<string, string>;

    beforeAll(async () => {
      t = await createTestApp({ WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' });
      auth = await admin(t);
    });
    afterAll(async () => {
      await t.close();
    });

    it.each([
      ['127.0.0.1', '/direct', (p: string) => `http://127.0.0.1:${receiver.port}${p}`],
      ['localhost', '/by-name', (p: string) => `http://localhost:${receiver.port}${p}`],
      ['[::ffff:127.0.0.1]', '/mapped', (p: string) => `http://[::ffff:127.0.0.1]:${receiver.port}${p}`],
    ])('delivers to the loopback receiver at %s', async (_name, path, url) => {
      const id = await createWebhook(t, auth, url(path));
      const res = await t.http().post(`/api/webhooks/${id}/test`).set(auth).expect(200);
      expect(res.body).toMatchObject({ success: true, status_code: 200, error: null });
      expect(receiver.requests.filter((r) => r.path === path)).toHaveLength(1);
    });

    it('still refuses networks outside the allowed ones ([::1], 10.0.0.1)', async () => {
      const url = `http://[::1]:${v6.port}/hook`;
      await expect(guardRefuses(url, ['127.0.0.0/8'])).resolves.toMatch(/loopback \(::1\)/);
      const id = await createWebhook(t, auth, url);
      const res = await t.http().post(`/api/webhooks/${id}/test`).set(auth).expect(200);
      expect(res.body.success).toBe(false);
      expect(res.body.error).toMatch(/loopback \(::1\).*WEBHOOK_ALLOWED_NETWORKS/);
      expect(v6.count()).toBe(0);

      await expect(guardRefuses('http://10.0.0.1/', ['127.0.0.0/8'])).resolves.toMatch(/private/);
      const other = await createWebhook(t, auth, 'http://10.0.0.1/hook');
      const res2 = await t.http().post(`/api/webhooks/${other}/test`).set(auth).expect(200);
      expect(res2.body.success).toBe(false);
      expect(res2.body.error).toMatch(/private \(RFC 1918\)/);
    });

    it.each([
      ['a private IPv6 receiver', () => `http://[::1]:${v6.port}/inner`],
      ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ])('does not follow a redirect to %s', async (_name, target) => {
      receiver.respondWith((req) => (req.path === '/redirect' ? { status: 302, headers: { Location: target() } } : { status: 200 }));
      try {
        const id = await createWebhook(t, auth, `${receiver.url}/redirect`);
        const before = receiver.requests.length;
        const res = await t.http().post(`/api/webhooks/${id}/test`).set(auth).expect(200);
        expect(res.body).toMatchObject({ success: false, status_code: 302 });
        expect(res.body.error).toBe(`HTTP 302 Found: redirect to ${new URL(target()).origin} not followed`); // origin only: paths may carry tokens
        expect(receiver.requests.length - before).toBe(1);
        expect(v6.count()).toBe(0);
      } finally {
        receiver.respondWith(() => ({ status: 200 }));
      }
    });
  });
});
