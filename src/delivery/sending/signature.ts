import { createHmac, createSecretKey, KeyObject } from 'node:crypto';
import { standardWebhooksKey } from '../../webhooks/secret';

export const USER_AGENT = 'ATLAS-Webhooks/1.0';

/**
 * `X-ATLAS-Signature`: hex HMAC-SHA256 keyed with the UTF-8 bytes of the whole
 * secret (a `whsec_` prefix included) over the exact body bytes. This is what the
 * ATLAS guide's Python verifier recomputes from `json.dumps(request.json, sort_keys=True)`,
 * which is why the body must be canonical JSON (src/common/canonical-json.ts).
 */
const KEY_CACHE_LIMIT = 10_000;
const atlasKeys = new Map<string, KeyObject>();
const standardKeys = new Map<string, KeyObject>();

/**
 * A secret's HMAC key, made once: an HMAC keyed by a KeyObject skips turning
 * the secret into key bytes on every delivery. The caches are bounded (a
 * rotated secret's key simply ages out when they are cleared).
 */
function cachedKey(cache: Map<string, KeyObject>, secret: string, bytes: (secret: string) => Buffer): KeyObject {
  let key = cache.get(secret);
  if (key === undefined) {
    if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
    key = createSecretKey(bytes(secret));
    cache.set(secret, key);
  }
  return key;
}

const utf8 = (secret: string): Buffer => Buffer.from(secret, 'utf8');

export function atlasSignature(secret: string, body: string | Buffer): string {
  return createHmac('sha256', cachedKey(atlasKeys, secret, utf8))
    .update(body)
    .digest('hex');
}

/**
 * `webhook-signature` (Standard Webhooks): `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * for each secret, space-separated: the current secret first, then a previous one
 * still valid during rotation, so receivers holding either secret verify.
 */
export function standardWebhookSignature(secrets: string[], msgId: string, timestampSeconds: number, body: string | Buffer): string {
  const prefix = `${msgId}.${timestampSeconds}.`;
  let out = '';
  for (const secret of secrets) {
    const mac = createHmac('sha256', cachedKey(standardKeys, secret, standardWebhooksKey))
      .update(prefix)
      .update(body)
      .digest('base64');
    out += (out === '' ? 'v1,' : ' v1,') + mac;
  }
  return out;
}

export interface SignDeliveryInput {
  secret: string;
  /** A rotated-out secret that is still valid: adds a second `webhook-signature` entry. */
  previousSecret?: string | null;
  eventId: string;
  eventType: string;
  deliveryId: string;
  attempt: number;
  timestampSeconds: number;
  /** The exact bytes that will be sent (canonical JSON). */
  body: string | Buffer;
}

/** The names of the headers signDelivery sets, exactly as it spells them. */
export const SIGNED_HEADER_NAMES = [
  'Content-Type',
  'User-Agent',
  'X-ATLAS-Event',
  'X-ATLAS-Signature',
  'X-ATLAS-Delivery',
  'X-ATLAS-Attempt',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
] as const;

/** The headers of one delivery attempt (the webhook's own custom headers are added by the caller). */
export function signDelivery(input: SignDeliveryInput): Record<(typeof SIGNED_HEADER_NAMES)[number], string> {
  const { secret, previousSecret, eventId, body, timestampSeconds } = input;
  const secrets = previousSecret ? [secret, previousSecret] : [secret];
  return {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-ATLAS-Event': input.eventType,
    'X-ATLAS-Signature': atlasSignature(secret, body),
    'X-ATLAS-Delivery': input.deliveryId,
    'X-ATLAS-Attempt': String(input.attempt),
    'webhook-id': eventId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': standardWebhookSignature(secrets, eventId, timestampSeconds, body),
  };
}
