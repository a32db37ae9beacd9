/**
 * Real deliveries, verified the way receivers do it: the ATLAS guide's Python
 * function (python3), and the `standardwebhooks` package.
 */
import { Webhook } from 'standardwebhooks';
import { CaptureServer, eventually } from '../utils/capture-server';
import { verifyWithPython } from '../utils/python-verifier';
import { createTestApp, TestApp } from '../utils/test-app';

const PAYLOADS: unknown[] = [
  { message: '服务已启动', user: 'José Müller', note: 'naïve café' },
  { emoji: '🚀🔥 done ✅', flags: '🇩🇪', astral: '𝄞 music' },
  { controls: '\u0000\u0001\u0007\b\t\n\u000b\f\r\u001b\u001f\u007f', quotes: '"\'\\/', html: '<script>alert(1)</script>' },
  { nested: { deeper: { deepest: [1, [2, [3, { k: 'v' }]]] } }, empty: {}, list: [], nothing: null, yes: true, no: false },
  // eslint-disable-next-line no-loss-of-precision -- deliberately past 2^53: the payload carries the double JS makes of it, as a client's JSON would
  { floats: [0.1, 1.5, 1e-7, 0.00001, 1e-4, 123456.789, 1.7976931348623157e308, 5e-324, -2.5e-10, 3.0, 1e21, 12345678901234567890] },
  { 'z-last': 1, 'a-first': 2, é: 3, 'Z-upper': 4, '😀': 5, '\uffff': 6, '': 7 },
  // eslint-disable-next-line no-loss-of-precision -- deliberately past 2^53 (see above)
  { unicode_keys: { 日本: 'Japan', Ελλάδα: 'Greece' }, big: 9007199254740993, negative_zero: -0 },
];

describe('Signatures on real deliveries (e2e)', () => {
  let t: TestApp;
  let receiver: CaptureServer;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createTestApp();
    receiver = await new CaptureServer().start();
    token = await t.login();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function deliver(
    secret?: string,
  ): Promise<{ secret: string; bodies: Array<{ body: string; headers: Record<string, string | string[] | undefined> }> }> {
    const path = `/${Math.random().toString(36).slice(2)}`;
    const created = await t
      .http()
      .post('/api/webhooks')
      .set(auth())
      .send({ url: receiver.url + path, name: 'verify', events: ['system.*'], ...(secret ? { secret } : {}) })
      .expect(201);
    for (const data of PAYLOADS) {
      await t.http().post('/api/events').set(auth()).send({ type: 'system.health_warning', data }).expect(202);
    }
    const mine = await eventually(() => {
      const got = receiver.requests.filter((r) => r.path === path);
      return got.length >= PAYLOADS.length ? got : null;
    });
    expect(mine).toHaveLength(PAYLOADS.length);
    return { secret: created.body.secret, bodies: mine.map((r) => ({ body: r.body, headers: r.headers })) };
  }

  it("every delivery passes the guide's Python verifier (generated whsec_ secret)", async () => {
    const { secret, bodies } = await deliver();
    const verdicts = verifyWithPython(bodies.map((b) => ({ body: b.body, signature: String(b.headers['x-atlas-signature']), secret })));
    expect(verdicts).toEqual(PAYLOADS.map(() => ({ verified: true, fixed_point: true })));
    // and a tampered body fails it
    // (deliveries of different events come in any order: pick the one that carries the name)
    const named = bodies.find((b) => b.body.includes('M\\u00fcller'))!;
    const forged = named.body.replace('M\\u00fcller', 'Muller');
    expect(forged).not.toBe(named.body);
    const tampered = verifyWithPython([{ body: forged, signature: String(named.headers['x-atlas-signature']), secret }]);
    expect(tampered[0].verified).toBe(false);
  });

  it("every delivery passes the guide's Python verifier with an operator-chosen secret", async () => {
    const chosen = 'my-own-secret-ключ-🔑';
    const { bodies } = await deliver(chosen);
    const verdicts = verifyWithPython(bodies.map((b) => ({ body: b.body, signature: String(b.headers['x-atlas-signature']), secret: chosen })));
    expect(verdicts.every((v) => v.verified && v.fixed_point)).toBe(true);
  });

  it('every delivery passes standardwebhooks Webhook.verify', async () => {
    const { secret, bodies } = await deliver();
    const wh = new Webhook(secret);
    for (const b of bodies) {
      const headers = {
        'webhook-id': String(b.headers['webhook-id']),
        'webhook-timestamp': String(b.headers['webhook-timestamp']),
        'webhook-signature': String(b.headers['webhook-signature']),
      };
      expect(wh.verify(b.body, headers)).toEqual(JSON.parse(b.body));
    }
    const other = new Webhook('whsec_' + Buffer.alloc(32, 7).toString('base64'));
    expect(() =>
      other.verify(bodies[0].body, {
        'webhook-id': String(bodies[0].headers['webhook-id']),
        'webhook-timestamp': String(bodies[0].headers['webhook-timestamp']),
        'webhook-signature': String(bodies[0].headers['webhook-signature']),
      }),
    ).toThrow();
  });
});
