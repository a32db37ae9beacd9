import { canonicalString } from '../../common/canonical-json';

/**
 * The signed request body: the envelope `{"data", "event", "id", "timestamp"}`
 * in canonical form (keys already in code point order). `payloadText` is the
 * event data exactly as stored (canonical JSON), so nothing is re-serialised.
 */
export function buildEventBody(eventId: string, type: string, createdAt: Date, payloadText: string): string {
  return `{"data": ${payloadText}, "event": ${canonicalString(type)}, "id": "${eventId}", "timestamp": "${createdAt.toISOString()}"}`;
}
