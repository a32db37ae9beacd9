import { randomBytes } from 'node:crypto';

/** Prefix of generated secrets, as in Standard Webhooks / Svix (`whsec_<base64>`). */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** What API responses and logs may show of a secret: a fixed mask and at most its last 4 characters. */
export function maskSecret(secret: string): string {
  // A secret of 8 characters or fewer shows nothing: 4 characters would be half of it.
  return '********' + (secret.length > 8 ? secret.slice(-4) : '');
}

/**
 * The HMAC key for the Standard Webhooks signature. For `whsec_` secrets the
 * libraries (standardwebhooks, svix) base64-decode the part after the prefix, so
 * we must too; any other secret (an operator's own string) is used as its UTF-8
 * bytes, which the libraries accept in their `format: 'raw'` mode.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith(SECRET_PREFIX)) {
    const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
    if (key.length > 0) return key;
  }
  return Buffer.from(secret, 'utf8');
}
