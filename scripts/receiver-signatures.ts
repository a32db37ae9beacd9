/**
 * Checks the two signatures an ATLAS delivery carries, the way receivers do:
 *
 * - `X-ATLAS-Signature`: hex HMAC-SHA256 keyed with the UTF-8 bytes of the
 *   whole secret string, over the raw body; and, separately, over
 *   `canonicalJson(JSON.parse(body))`, which is what the Python verifier of
 *   the ATLAS guide (`json.dumps(request.json, sort_keys=True)`) signs.
 * - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`):
 *   through the `standardwebhooks` library for `whsec_` secrets; for other
 *   secrets the same `v1,<base64>` HMAC over `id.timestamp.body` with the
 *   secret's UTF-8 bytes as key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { canonicalJson } from '../src/common/canonical-json';

export interface SignatureVerdict {
  ok: boolean;
  detail: string;
}

export type SignatureReport =
  | { checked: false; note: string }
  | {
      checked: true;
      /** X-ATLAS-Signature over the raw body. */
      atlas: SignatureVerdict;
      /** X-ATLAS-Signature over the re-serialised body (the ATLAS Python verifier). */
      atlas_reserialised: SignatureVerdict;
      /** webhook-signature (Standard Webhooks). */
      standard_webhooks: SignatureVerdict;
      all_ok: boolean;
    };

export const NOT_CHECKED_NOTE = 'no secret given: signatures not checked';

/** Same tolerance as the standardwebhooks library. */
const TIMESTAMP_TOLERANCE_S = 5 * 60;

const WHSEC = 'whsec_';

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hexHmac(secret: string, data: string | Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(data).digest('hex');
}

/** Throws when a `whsec_` secret is not valid base64 (the library could not use it). */
export function assertUsableSecret(secret: string): void {
  if (!secret.startsWith(WHSEC)) return;
  try {
    new Webhook(secret);
  } catch (err) {
    throw new Error(`the secret starts with ${WHSEC} but the rest is not valid base64 (${(err as Error).message})`, { cause: err });
  }
}

/** A short description of the secret that does not reveal it. */
export function describeSecret(secret: string): string {
  if (secret.startsWith(WHSEC)) {
    return `a ${WHSEC} secret (${Buffer.from(secret.slice(WHSEC.length), 'base64').length}-byte Standard Webhooks key)`;
  }
  return `a custom secret of ${secret.length} characters (Standard Webhooks signature checked with its UTF-8 bytes)`;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const v = headers[name];
  return v === undefined || v === '' ? undefined : v;
}

function checkAtlasRaw(body: Buffer, signature: string | undefined, secret: string): SignatureVerdict {
  if (!signature) return { ok: false, detail: 'no X-ATLAS-Signature header' };
  return sameText(signature, hexHmac(secret, body))
    ? { ok: true, detail: 'matches HMAC-SHA256 of the raw body' }
    : { ok: false, detail: 'does not match HMAC-SHA256 of the raw body' };
}

function checkAtlasReserialised(body: Buffer, signature: string | undefined, secret: string): SignatureVerdict {
  if (!signature) return { ok: false, detail: 'no X-ATLAS-Signature header' };
  const text = body.toString('utf8');
  let canonical: string;
  try {
    canonical = canonicalJson(JSON.parse(text));
  } catch (err) {
    return { ok: false, detail: `the body is not JSON, so the Python verifier cannot re-serialise it (${(err as Error).message})` };
  }
  const matches = sameText(signature, hexHmac(secret, canonical));
  if (canonical !== text) {
    return matches
      ? { ok: true, detail: 'the Python verifier of the ATLAS guide accepts it, but the body is not in json.dumps(..., sort_keys=True) form' }
      : { ok: false, detail: 'the body is not in json.dumps(..., sort_keys=True) form, so the Python verifier of the ATLAS guide rejects it' };
  }
  return matches
    ? { ok: true, detail: 'matches the re-serialised body too: the Python verifier of the ATLAS guide accepts it' }
    : { ok: false, detail: 'does not match the re-serialised body: the Python verifier of the ATLAS guide rejects it' };
}

function checkStandardByHand(body: Buffer, id: string, timestamp: string, signatures: string, secret: string): SignatureVerdict {
  if (!/^\d+$/.test(timestamp)) return { ok: false, detail: `webhook-timestamp "${timestamp}" is not a Unix time in seconds` };
  const age = Math.floor(Date.now() / 1000) - Number(timestamp);
  if (age > TIMESTAMP_TOLERANCE_S) return { ok: false, detail: `message timestamp too old (${age} s)` };
  if (-age > TIMESTAMP_TOLERANCE_S) return { ok: false, detail: `message timestamp too new (${-age} s ahead)` };
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${id}.${timestamp}.`).update(body).digest('base64');
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    if (sameText(entry.slice(comma + 1), expected)) {
      return { ok: true, detail: 'v1 signature verified (HMAC keyed with the UTF-8 bytes of the secret)' };
    }
  }
  return { ok: false, detail: 'no matching v1 signature (HMAC keyed with the UTF-8 bytes of the secret)' };
}

function checkStandard(body: Buffer, headers: Record<string, string>, secret: string): SignatureVerdict {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  const missing = [!id && 'webhook-id', !timestamp && 'webhook-timestamp', !signatures && 'webhook-signature'].filter(Boolean);
  if (!id || !timestamp || !signatures) return { ok: false, detail: `missing header ${missing.join(', ')}` };
  if (!secret.startsWith(WHSEC)) return checkStandardByHand(body, id, timestamp, signatures, secret);
  try {
    new Webhook(secret).verify(
      body.toString('utf8'),
      { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures },
      { jsonParse: false },
    );
    return { ok: true, detail: 'verified by the standardwebhooks library' };
  } catch (err) {
    return { ok: false, detail: `standardwebhooks library: ${(err as Error).message}` };
  }
}

/** Checks both schemes; `headers` has lower-case names. */
export function verifySignatures(body: Buffer, headers: Record<string, string>, secret: string | undefined): SignatureReport {
  if (!secret) return { checked: false, note: NOT_CHECKED_NOTE };
  const signature = header(headers, 'x-atlas-signature');
  const atlas = checkAtlasRaw(body, signature, secret);
  const atlasReserialised = checkAtlasReserialised(body, signature, secret);
  const standard = checkStandard(body, headers, secret);
  return {
    checked: true,
    atlas,
    atlas_reserialised: atlasReserialised,
    standard_webhooks: standard,
    all_ok: atlas.ok && atlasReserialised.ok && standard.ok,
  };
}
