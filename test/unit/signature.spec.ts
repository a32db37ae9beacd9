import { Webhook } from 'standardwebhooks';
import { canonicalJson } from '../../src/common/canonical-json';
import { generateSecret, maskSecret, standardWebhooksKey } from '../../src/webhooks/secret';
import { atlasSignature, signDelivery, standardWebhookSignature } from '../../src/delivery/sending/signature';
import { verifyWithPython } from '../utils/python-verifier';

// The expected values below were computed once with python3 (hmac, hashlib, base64,
// json.dumps(..., sort_keys=True)), independently of this code, and hard-coded.
const BODY =
  '{"data": {"note": "a\\u0000b\\u007f", "username": "\\u5f20\\u4f1f \\ud83d\\ude00"}, "event": "user.created", "timestamp": "2024-06-11T10:00:00Z"}';
const SVIX_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;

describe('secret helpers', () => {
  it('generates whsec_ + base64 of 32 random bytes, different each time', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it('masks all but the last 4 characters, and everything of a short secret', () => {
    expect(maskSecret('whsec_abcdefghijklmnop')).toBe('********mnop');
    expect(maskSecret('123456789')).toBe('********6789');
    expect(maskSecret('12345678')).toBe('********');
    expect(maskSecret('')).toBe('********');
  });

  it('derives the Standard Webhooks key: base64 after whsec_, else UTF-8 bytes', () => {
    expect(standardWebhooksKey(SVIX_SECRET).toString('base64')).toBe('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(standardWebhooksKey('your-webhook-secret')).toEqual(Buffer.from('your-webhook-secret'));
    expect(standardWebhooksKey('sécret')).toEqual(Buffer.from([0x73, 0xc3, 0xa9, 0x63, 0x72, 0x65, 0x74]));
  });
});

describe('fixed signature vectors (from python3)', () => {
  it('atlasSignature: hex HMAC keyed with the whole secret string, over the body bytes', () => {
    expect(atlasSignature('your-webhook-secret', BODY)).toBe('c6eb033b5715fbf5101233a82faa2b0d656694ed8654b18867dfec248e8fcd46');
    expect(atlasSignature(SVIX_SECRET, Buffer.from(BODY))).toBe('023f3e6f9141fc2fd19861dd3ee8926a56e7f540e346e0cc87932a3aa40a19bb');
  });

  it('standardWebhookSignature: the Standard Webhooks spec example', () => {
    expect(standardWebhookSignature([SVIX_SECRET], MSG_ID, TS, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('standardWebhookSignature: one entry per secret, current first', () => {
    expect(standardWebhookSignature([SVIX_SECRET, 'your-webhook-secret'], MSG_ID, TS, BODY)).toBe(
      'v1,uS1BvraNYLLZrZFk5kzk/nn0p5dtgWe8aOhW/8tgSoI= v1,eltbLxhoy40h+9xAMugIN4AGBW0BjOnCU3lSRdH9yUk=',
    );
    expect(standardWebhookSignature([SVIX_SECRET], MSG_ID, TS, Buffer.from(BODY))).toBe('v1,uS1BvraNYLLZrZFk5kzk/nn0p5dtgWe8aOhW/8tgSoI=');
  });
});

describe('signDelivery', () => {
  const base = { eventId: MSG_ID, eventType: 'user.created', deliveryId: 'd-1', attempt: 3, timestampSeconds: TS, body: BODY };

  it('returns the full header set', () => {
    expect(signDelivery({ ...base, secret: SVIX_SECRET })).toEqual({
      'Content-Type': 'application/json',
      'User-Agent': 'ATLAS-Webhooks/1.0',
      'X-ATLAS-Event': 'user.created',
      'X-ATLAS-Signature': '023f3e6f9141fc2fd19861dd3ee8926a56e7f540e346e0cc87932a3aa40a19bb',
      'X-ATLAS-Delivery': 'd-1',
      'X-ATLAS-Attempt': '3',
      'webhook-id': MSG_ID,
      'webhook-timestamp': String(TS),
      'webhook-signature': 'v1,uS1BvraNYLLZrZFk5kzk/nn0p5dtgWe8aOhW/8tgSoI=',
    });
  });

  it('signs X-ATLAS-Signature with the current secret only, webhook-signature with both during rotation', () => {
    const headers = signDelivery({ ...base, secret: SVIX_SECRET, previousSecret: 'your-webhook-secret' });
    expect(headers['X-ATLAS-Signature']).toBe('023f3e6f9141fc2fd19861dd3ee8926a56e7f540e346e0cc87932a3aa40a19bb');
    expect(headers['webhook-signature']).toBe('v1,uS1BvraNYLLZrZFk5kzk/nn0p5dtgWe8aOhW/8tgSoI= v1,eltbLxhoy40h+9xAMugIN4AGBW0BjOnCU3lSRdH9yUk=');
    expect(signDelivery({ ...base, secret: SVIX_SECRET, previousSecret: null })['webhook-signature']).not.toContain(' ');
  });
});

describe('the standardwebhooks library verifies our deliveries', () => {
  const body = canonicalJson({ event: 'backup.created', data: { name: 'nächtlich 🌙', size: 1.5e-5 } });
  const now = () => Math.floor(Date.now() / 1000);

  it('with a generated whsec_ secret', () => {
    const secret = generateSecret();
    const headers = signDelivery({ secret, eventId: 'evt_1', eventType: 'backup.created', deliveryId: 'd', attempt: 1, timestampSeconds: now(), body });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body.replace('backup', 'bachup'), headers)).toThrow(/No matching signature/);
  });

  it('with two signatures during rotation: old and new secret both verify', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const headers = signDelivery({
      secret: newSecret,
      previousSecret: oldSecret,
      eventId: 'evt_2',
      eventType: 'backup.created',
      deliveryId: 'd',
      attempt: 2,
      timestampSeconds: now(),
      body,
    });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow(/No matching signature/);
  });

  it('with an operator-chosen plain secret, in the library raw mode', () => {
    const secret = 'your-webhook-secret';
    const headers = signDelivery({ secret, eventId: 'evt_3', eventType: 'backup.created', deliveryId: 'd', attempt: 1, timestampSeconds: now(), body });
    expect(new Webhook(secret, { format: 'raw' }).verify(body, headers)).toEqual(JSON.parse(body));
  });
});

// test/fixtures/atlas_verify.py holds the verifier from ATLAS-GUIDE.md, verbatim, fed with request.json = json.loads(body).
describe("the ATLAS guide's Python verifier accepts our deliveries", () => {
  const payload = {
    event: 'user.created',
    timestamp: '2024-06-11T10:00:00.000Z',
    data: {
      username: 'Zoë 张伟 😀🚀',
      controls: Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\x7f',
      quotes: 'say "hi" \\ / ok',
      keys: { '\uffff': 1, '😀': 2, é: 3, z: 4 },
      numbers: [1e-7, 1e-5, 0.0001, 123.456, 5e-324, 1.7976931348623157e308, -0, 2 ** 53],
      nested: [[{}], []],
    },
  };

  it('returns True for the signed canonical body and False when tampered with', () => {
    const body = canonicalJson(payload);
    const cases = ['your-webhook-secret', generateSecret(), 'pässwörd-🔑'].flatMap((secret) => {
      const signature = signDelivery({ secret, eventId: 'e', eventType: 'user.created', deliveryId: 'd', attempt: 1, timestampSeconds: 1, body })[
        'X-ATLAS-Signature'
      ];
      return [
        { body, signature, secret },
        { body: body.replace('Zo\\u00eb', 'Zo\\u00ea'), signature, secret },
        { body, signature, secret: secret + 'x' },
      ];
    });
    expect(verifyWithPython(cases).map((v) => v.verified)).toEqual([true, false, false, true, false, false, true, false, false]);
  });
});
