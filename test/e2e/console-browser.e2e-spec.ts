/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: DOM types for them
/**
 * The web console in a real headless Chromium (playwright-core + the binary of
 * @sparticuz/chromium) against the real service on the embedded PostgreSQL,
 * delivering to real receivers on loopback. Screenshots of the main pages go
 * to .artifacts/screenshots/ on every run.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CaptureServer, eventually } from '../utils/capture-server';
import { queryDb } from '../utils/delivery-db';
import { colouredPixels, launchBrowser, screenshot, signIn } from '../utils/browser';
import { createTestApp, TestApp } from '../utils/test-app';

const SUCCEEDED_RGB: [number, number, number] = [0x16, 0xa3, 0x4a];
const FAILED_RGB: [number, number, number] = [0xdc, 0x26, 0x26];
const P50_RGB: [number, number, number] = [0x25, 0x63, 0xeb];
const P95_RGB: [number, number, number] = [0x7c, 0x3a, 0xed];

jest.setTimeout(120_000);

describe('web console (headless Chromium)', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let token: string;
  let billingId: string;
  const ok = new CaptureServer(() => ({ status: 200, body: '{"received":true}', headers: { 'Content-Type': 'application/json' } }));
  const broken = new CaptureServer(() => ({ status: 500, body: 'receiver exploded: database locked' }));

  const api = async (method: 'get' | 'post', path: string, body?: object) => {
    const req = t.http()[method](path).set('Authorization', `Bearer ${token}`);
    return body ? req.send(body) : req;
  };

  beforeAll(async () => {
    [t, browser] = await Promise.all([createTestApp(), launchBrowser(), ok.start(), broken.start()]);
    token = await t.login();
    // two webhooks with a day of history (subscribed to types no test emits), before any page has read the overview
    for (const [name, events, n, failShare] of [
      ['Billing sink', ['domain.*'], 600, 0.04],
      ['Audit trail', ['system.*'], 200, 0.3],
    ] as const) {
      const res = await api('post', '/api/webhooks', { url: `${ok.url}/${name}`, name, events });
      expect(res.status).toBe(201);
      await seedHistory(res.body.id as string, n, failShare);
      if (name === 'Billing sink') billingId = res.body.id as string;
    }
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await ok.close();
    await broken.close();
  });

  /** A day of history for a webhook (one old event, `n` attempts spread over the last 23 hours), so that the charts have a shape. */
  const seedHistory = async (webhookId: string, n: number, failShare: number) => {
    const [event] = await queryDb<{ id: string }>(
      t.databaseUrl,
      `INSERT INTO webhook_events (id, type, payload, created_at, fanned_out_at) VALUES (gen_random_uuid(), 'service.started', '{}', now() - interval '1 day', now() - interval '1 day') RETURNING id`,
    );
    await queryDb(
      t.databaseUrl,
      `INSERT INTO webhook_logs (webhook_id, event_id, event_created_at, event_type, attempt, trigger, status, success, status_code, duration_ms, error, scheduled_at, created_at, started_at, finished_at)
       SELECT $1, $2, now() - interval '1 day', 'service.started', g + 1, 'recover', s.status, s.status = 'succeeded', CASE s.status WHEN 'succeeded' THEN 200 ELSE 500 END,
              s.ms, CASE s.status WHEN 'failed' THEN 'HTTP 500 Internal Server Error' END, s.at, s.at, s.at, s.at
       FROM generate_series(1, $3::int) g
       CROSS JOIN LATERAL (SELECT CASE WHEN random() < $4::float * (1 + sin(g / 20.0)) THEN 'failed' ELSE 'succeeded' END AS status,
                                  (20 + 120 * random() * random())::int AS ms,
                                  now() - interval '1 hour' - (g::float / $3::int) * interval '22 hours' AS at) s`,
      [webhookId, event.id, n, failShare],
    );
  };

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    page = await context.newPage();
  });

  afterEach(async () => {
    await context.close();
  });

  it('serves the console at / under the same CSP, and signs in and out', async () => {
    const res = await page.goto(`${t.baseUrl}/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid username or password' }).waitFor();
    await screenshot(page, 'login');

    await signIn(page, t.baseUrl, 'admin', 'admin123');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(1);
    // a reload keeps the tab signed in (sessionStorage), a deep link too
    await page.goto(`${t.baseUrl}/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('creates a webhook through the form, shows its secret once, sends a test and shows it in the log with charts', async () => {
    await signIn(page, t.baseUrl, 'admin', 'admin123');
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByRole('button', { name: 'New webhook' }).click();

    // the API's validation message appears next to its field
    await page.getByLabel('URL').fill('not a url');
    await page.getByLabel('Name').fill('Orders receiver');
    await page.getByRole('checkbox', { name: 'service.started' }).check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const urlError = page.locator('.field-error[data-field="url"]');
    await urlError.waitFor();
    expect(await urlError.textContent()).toMatch(/^url /);

    await page.getByLabel('URL').fill(`${ok.url}/hooks/orders`);
    await page.getByRole('checkbox', { name: 'user.*' }).check();
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header name').fill('X-Team');
    await page.getByLabel('Header value').fill('billing');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secret = (await page.getByTestId('new-secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await screenshot(page, 'webhook-created');

    const created = (await api('get', '/api/webhooks')).body.items.find((w: { name: string }) => w.name === 'Orders receiver');
    expect(created).toMatchObject({ url: `${ok.url}/hooks/orders`, events: ['service.started', 'user.*'], headers: { 'X-Team': 'billing' } });

    // shown once: the webhook's page shows it masked
    await page.getByRole('link', { name: 'Go to Orders receiver' }).click();
    await page.getByTestId('masked-secret').waitFor();
    expect(await page.getByTestId('masked-secret').textContent()).toBe(`********${secret.slice(-4)}`);
    expect(await page.content()).not.toContain(secret);

    await page.getByRole('button', { name: 'Send test' }).click();
    const result = page.getByTestId('test-result');
    await result.filter({ hasText: 'Test delivered' }).waitFor();
    expect(await result.textContent()).toContain('HTTP 200');
    expect(await result.textContent()).toContain('{"received":true}');
    expect(ok.requests).toHaveLength(1);
    expect(ok.requests[0].headers['x-atlas-event']).toBe('webhook.test');

    const row = page.locator('[data-testid="attempt-log"] tr[data-status="succeeded"]');
    await row.first().waitFor();
    expect(await row.first().textContent()).toContain('webhook.test');

    // the charts draw the attempt: the succeeded colour is on the canvas
    await eventually(async () => (await colouredPixels(page, '[data-testid="outcome-chart"]', SUCCEEDED_RGB)) > 20, 10_000);
    // one attempt: p50 = p95, the p95 point drawn over the p50 one
    const latency = async () =>
      (await colouredPixels(page, '[data-testid="latency-chart"]', P50_RGB)) + (await colouredPixels(page, '[data-testid="latency-chart"]', P95_RGB));
    await eventually(async () => (await latency()) > 10, 10_000);
    await screenshot(page, 'webhook-detail');
  });

  it('shows a failing endpoint on the overview, its attempt detail with the response, and redelivers from there', async () => {
    const created = await api('post', '/api/webhooks', {
      url: `${broken.url}/hook`,
      name: 'Broken receiver',
      events: ['backup.created'],
      retry_enabled: false,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api('post', '/api/events', { type: 'backup.created', data: { backup_id: 'b-1' } })).status).toBe(202);
    await broken.waitFor(1);
    await eventually(async () => (await api('get', `/api/webhooks/${id}`)).body.consecutive_failures > 0);

    await signIn(page, t.baseUrl, 'admin', 'admin123');
    const attention = page.getByTestId('attention');
    await attention.getByRole('row').filter({ hasText: 'Broken receiver' }).waitFor();
    expect(await attention.textContent()).toContain('HTTP 500');
    expect(await attention.textContent()).toContain('failing');
    await eventually(async () => (await colouredPixels(page, '[data-testid="outcome-chart"]', FAILED_RGB)) > 10, 10_000);
    expect(await colouredPixels(page, '[data-testid="outcome-chart"]', SUCCEEDED_RGB)).toBeGreaterThan(10);
    await screenshot(page, 'overview');

    await attention.getByRole('link', { name: 'Broken receiver' }).click();
    await page.locator('[data-testid="attempt-log"] tr[data-status="failed"] a').first().click();
    await page.getByTestId('response-status').filter({ hasText: '500' }).waitFor();
    expect(await page.getByTestId('response-body').textContent()).toBe('receiver exploded: database locked');
    expect(await page.getByTestId('request-body').textContent()).toContain('"backup_id": "b-1"');
    expect(await page.getByTestId('attempt-error').textContent()).toContain('500');
    await screenshot(page, 'attempt-detail');

    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByTestId('redelivered').waitFor();
    await broken.waitFor(2);
    expect(JSON.parse(broken.requests[1].body)).toEqual(JSON.parse(broken.requests[0].body));
    await page.getByRole('link', { name: 'see the new attempt' }).click();
    await page.getByTestId('attempt-status').filter({ hasText: 'failed' }).waitFor();
    expect(await page.getByTestId('attempt-status').textContent()).toContain('HTTP 500');

    // Recover since… (the date picker's default, a day back) queues the event that never reached it; Disable shows at once
    await page.getByRole('link', { name: 'Broken receiver' }).click();
    await page.getByLabel('Recover since').waitFor();
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await page.getByText('1 attempt queued').waitFor();
    await broken.waitFor(3);
    expect(JSON.parse(broken.requests[2].body)).toEqual(JSON.parse(broken.requests[0].body));
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.locator('.badge-disabled').waitFor();
    expect((await api('get', `/api/webhooks/${id}`)).body.enabled).toBe(false);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.locator('.page-head .badge-failed, .page-head .badge-succeeded').first().waitFor();

    await page.goto(`${t.baseUrl}/webhooks/${billingId}`);
    await eventually(async () => (await colouredPixels(page, '[data-testid="outcome-chart"]', SUCCEEDED_RGB)) > 500, 10_000);
    await screenshot(page, 'webhook-detail-history');
    await page.goto(`${t.baseUrl}/webhooks`);
    await page.getByTestId('webhooks-table').locator('.health .figure').nth(3).waitFor(); // the four webhooks' 24 h health
    expect(await page.getByTestId('webhooks-table').locator('svg.sparkline path').count()).toBeGreaterThan(3);
    await screenshot(page, 'webhooks');
  });

  it('refreshes the log by itself while the tab is visible, and not while it is hidden', async () => {
    // the page's timers run on Playwright's clock: time flows, and fastForward jumps over a polling period at once
    await page.clock.install();
    let polls = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/webhooks/logs/recent')) polls++;
    });
    /** Jumps `ms` ahead (firing each due timer once), then makes sure any request a timer started has been seen. */
    const jump = async (ms: number) => {
      await page.clock.fastForward(ms);
      await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/health')), page.evaluate(() => fetch('/api/health'))]);
    };
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate((s) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);

    await signIn(page, t.baseUrl, 'admin', 'admin123');
    await page.getByRole('link', { name: 'Attempt log' }).click();
    await page.getByTestId('attempt-log').waitFor();
    const rows = page.locator('[data-testid="attempt-log"] tbody tr');
    expect((await api('post', '/api/events', { type: 'user.created', data: { user_id: 'u-1' } })).status).toBe(202);
    await ok.waitFor(2);
    await eventually(async () => (await api('get', '/api/webhooks/logs/recent?event_type=user.created')).body.items[0]?.status === 'succeeded');
    expect(await rows.filter({ hasText: 'user.created' }).count()).toBe(0); // not reloaded yet
    await jump(5_000);
    await rows.filter({ hasText: 'user.created' }).first().waitFor();
    expect(await rows.first().textContent()).toContain('user.created'); // newest first
    await screenshot(page, 'attempt-log');

    await setVisibility('hidden');
    polls = 0;
    await jump(60_000);
    expect(polls).toBe(0);
    await setVisibility('visible'); // refreshes at once, then polls again
    await eventually(() => Promise.resolve(polls === 1), 5_000, 50);
    await jump(5_000);
    expect(polls).toBe(2);
  });

  it('shows a viewer every page but no secret and no write control, and lets them change their password', async () => {
    expect((await api('post', '/api/users', { username: 'watcher', password: 'watcher-pass-1', role: 'viewer' })).status).toBe(201);
    const hooks = (await api('get', '/api/webhooks')).body.items as Array<{ id: string; name: string }>;
    const orders = hooks.find((w) => w.name === 'Orders receiver')!;
    const secret = (await api('get', `/api/webhooks/${orders.id}/secret`)).body.secret as string;

    await signIn(page, t.baseUrl, 'watcher', 'watcher-pass-1');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByTestId('webhooks-table').waitFor();
    expect(await page.getByRole('button', { name: 'New webhook' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Orders receiver' }).click();
    await page.getByTestId('masked-secret').waitFor();
    await page.locator('[data-testid="attempt-log"]').waitFor();
    for (const name of ['Send test', 'Disable', 'Enable', 'Edit', 'Delete', 'Reveal secret', 'Rotate secret', 'Recover']) {
      expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
    }
    expect(await page.content()).not.toContain(secret);

    await page.locator('[data-testid="attempt-log"] tbody tr a').first().click();
    await page.getByTestId('response-status').waitFor();
    expect(await page.getByRole('button', { name: 'Redeliver' }).count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByTestId('events-table').waitFor();
    expect(await page.getByRole('button', { name: 'Emit' }).count()).toBe(0);
    // a viewer changes their own password on the account page
    await page.getByTitle('Account and password').click();
    await page.getByLabel('Current password').fill('watcher-pass-1');
    await page.getByLabel('New password', { exact: true }).fill('watcher-pass-2');
    await page.getByLabel('New password again').fill('watcher-pass-2');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();
    await t.http().post('/api/auth/login').send({ username: 'watcher', password: 'watcher-pass-1' }).expect(401);

    // and the API refuses the viewer's writes whatever a page shows
    const viewerToken = await t.login('watcher', 'watcher-pass-2');
    const res = await t.http().post(`/api/webhooks/${orders.id}/test`).set('Authorization', `Bearer ${viewerToken}`);
    expect(res.status).toBe(403);
  });

  it('lists events with their delivery counts, emits one from the JSON editor, manages users, and fits a phone screen', async () => {
    await signIn(page, t.baseUrl, 'admin', 'admin123');
    await page.getByRole('link', { name: 'Events' }).click();
    const backup = page.getByTestId('events-table').getByRole('row').filter({ hasText: 'backup.created' });
    await backup.waitFor();
    expect(await backup.textContent()).toContain('0 of 1');
    expect(await page.getByTestId('catalogue').textContent()).toContain('domain.cert_expiring');

    await page.getByLabel('Data (JSON object)').fill('{"service_id": "svc-9"');
    expect(await page.getByRole('button', { name: 'Emit' }).isDisabled()).toBe(true);
    await page.getByLabel('Data (JSON object)').fill('{"service_id": "svc-9"}');
    await page.getByRole('button', { name: 'Emit' }).click();
    await ok.waitFor(3); // the test of the second case, user.created of the live log, and this one
    expect(ok.requests[2].headers['x-atlas-event']).toBe('service.started');
    expect(JSON.parse(ok.requests[2].body)).toMatchObject({ data: { service_id: 'svc-9' } });
    // newest first: the emitted event heads the list, delivered to the one webhook subscribed to it (the live refresh shows it)
    const newest = page.getByTestId('events-table').locator('tbody tr').first();
    await newest.filter({ hasText: 'service.started' }).filter({ hasText: '1 of 1' }).waitFor({ timeout: 15_000 });
    await screenshot(page, 'events');

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Username').fill('ops-viewer');
    await page.getByLabel('Password').fill('ops-viewer-pass');
    await page.getByRole('button', { name: 'Create user' }).click();
    const opsRow = page.getByTestId('users-table').getByRole('row').filter({ hasText: 'ops-viewer' });
    await opsRow.waitFor();
    await opsRow.getByRole('button', { name: 'Delete' }).click();
    await opsRow.getByRole('button', { name: 'Yes, delete' }).click();
    await opsRow.waitFor({ state: 'detached' });

    // deleting a webhook asks first
    const doomed = await api('post', '/api/webhooks', { url: `${ok.url}/doomed`, name: 'Doomed hook', events: ['backup.deleted'] });
    await page.goto(`${t.baseUrl}/webhooks/${doomed.body.id as string}`);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Delete this webhook and its delivery log?').waitFor();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByTestId('webhooks-table').waitFor();
    expect(await page.getByRole('link', { name: 'Doomed hook' }).count()).toBe(0);
    expect((await api('get', `/api/webhooks/${doomed.body.id as string}`)).status).toBe(404);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'ATLAS Webhooks' }).click();
    await page.getByTestId('stat-success-rate').waitFor();
    // nothing wider than the screen (the elements that stick out, named, when something does)
    const stickingOut = await page.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !el.closest('.card'))
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
    );
    expect(stickingOut).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByTestId('webhooks-table').waitFor();
    await screenshot(page, 'webhooks-phone');
  });
});
