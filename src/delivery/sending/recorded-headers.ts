/**
 * What an attempt's log keeps of the request headers: the sender's own
 * headers (content type, user agent, event, signatures) as sent, and the
 * webhook's custom headers by name only. Custom headers are how receivers
 * ask for credentials (`Authorization: Bearer …`), and the log is read by
 * viewers, listed, exported and backed up: it must never hold a copy of
 * them. Applied when the result is recorded and again when a log is shown,
 * so rows written before this rule existed are masked too.
 */
import { SIGNED_HEADER_NAMES } from './signature';

/** What a custom header's value becomes in the log. */
export const MASKED_HEADER_VALUE = '********';

const OWN = new Set<string>(SIGNED_HEADER_NAMES);

export function maskRecordedHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) out[name] = OWN.has(name) ? headers[name] : MASKED_HEADER_VALUE;
  return out;
}
