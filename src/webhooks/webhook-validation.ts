/**
 * Pure checks of webhook fields that class-validator's built-ins do not cover.
 * Each returns the problems found (empty when valid), every one naming the field.
 */

export const MAX_URL_LENGTH = 2048;
export const MAX_HEADERS = 20;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 1024;

/** RFC 9110 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What Node's HTTP client accepts in a header value: tab, visible ASCII, Latin-1; no CR, LF or other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers the sender sets itself; custom headers may not override them. */
const RESERVED_HEADERS = new Set(['content-type', 'host', 'content-length', 'transfer-encoding', 'connection']);
const RESERVED_PREFIXES = ['x-atlas-', 'webhook-'];

export function validateWebhookUrl(value: unknown): string[] {
  if (value === undefined || value === null) return ['url is required'];
  if (typeof value !== 'string') return ['url must be a string'];
  if (value.length === 0) return ['url must not be empty'];
  if (value.length > MAX_URL_LENGTH) return [`url must be at most ${MAX_URL_LENGTH} characters, got ${value.length}`];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [`url is not a valid URL: "${value.slice(0, 200)}"`];
  }
  const problems: string[] = [];
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`url must be an http:// or https:// URL, got "${url.protocol}"`);
  else if (!url.hostname) problems.push('url must name a host');
  if (url.username || url.password) problems.push('url must not contain a user name or password (user:password@); use headers for credentials');
  return problems;
}

export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADERS.has(lower) || RESERVED_PREFIXES.some((p) => lower.startsWith(p));
}

export function validateHeaders(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['headers must be an object of header names to string values'];
  const entries = Object.entries(value as Record<string, unknown>);
  const problems: string[] = [];
  if (entries.length > MAX_HEADERS) problems.push(`headers may contain at most ${MAX_HEADERS} entries, got ${entries.length}`);
  const seen = new Set<string>();
  for (const [name, v] of entries) {
    const shown = JSON.stringify(name.slice(0, 100));
    if (!TOKEN.test(name)) {
      problems.push(`headers: ${shown} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
      continue;
    }
    if (name.length > MAX_HEADER_NAME_LENGTH) problems.push(`headers: the name ${shown} is longer than ${MAX_HEADER_NAME_LENGTH} characters`);
    if (isReservedHeader(name)) {
      problems.push(
        `headers: ${shown} cannot be set; Content-Type, Host, Content-Length, Transfer-Encoding, Connection, X-ATLAS-* and webhook-* are set by the sender`,
      );
    }
    const lower = name.toLowerCase();
    if (seen.has(lower)) problems.push(`headers: ${shown} is given more than once (header names are case-insensitive)`);
    seen.add(lower);
    if (typeof v !== 'string') {
      problems.push(`headers.${name} must be a string`);
      continue;
    }
    if (v.length > MAX_HEADER_VALUE_LENGTH) problems.push(`headers.${name} must be at most ${MAX_HEADER_VALUE_LENGTH} characters, got ${v.length}`);
    if (/[\r\n]/.test(v)) problems.push(`headers.${name} must not contain line breaks (CR or LF)`);
    else if (!HEADER_VALUE.test(v))
      problems.push(`headers.${name} contains characters not allowed in an HTTP header value (control characters or characters beyond Latin-1)`);
  }
  return problems;
}
