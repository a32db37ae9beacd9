/**
 * Counts what real receivers got, keyed by the Standard Webhooks `webhook-id`
 * header (the event id, the receiver's idempotency key): which events arrived
 * where, which are missing, which arrived more than once.
 */
import { Captured, CaptureServer } from './capture-server';

export interface Endpoint {
  /** A name for messages, e.g. "slow". */
  name: string;
  receiver: CaptureServer;
  /** The webhook's subscriptions: exact types, "category.*" or "*". */
  events: string[];
}

export function subscribes(events: string[], type: string): boolean {
  return events.some((s) => s === '*' || s === type || (s.endsWith('.*') && type.startsWith(s.slice(0, -1))));
}

function header(req: Captured, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : (v ?? '');
}

/** The event id of a delivery (webhook-id) and the attempt row it came from (X-ATLAS-Delivery). */
export function eventIdOf(req: Captured): string {
  return header(req, 'webhook-id');
}

export function deliveryIdOf(req: Captured): string {
  return header(req, 'x-atlas-delivery');
}

export interface TallyReport {
  /** Expected (endpoint, event) pairs. */
  expected: number;
  /** Expected pairs that arrived at least once. */
  delivered: number;
  /** Expected pairs that never arrived, as "endpoint event-id". */
  missing: string[];
  /** Extra arrivals beyond the first, over every pair (expected or not). */
  duplicates: number;
  /** The arrivals that were repeats: endpoint, event id, and the attempt row ids involved. */
  duplicatePairs: Array<{ endpoint: string; eventId: string; count: number; deliveryIds: string[] }>;
  /** Arrivals per endpoint. */
  received: Record<string, number>;
}

/** Compares what the endpoints received with what they should have for `events`. */
export function tally(endpoints: Endpoint[], events: Array<{ id: string; type: string }>): TallyReport {
  const report: TallyReport = { expected: 0, delivered: 0, missing: [], duplicates: 0, duplicatePairs: [], received: {} };
  for (const ep of endpoints) {
    const byEvent = new Map<string, Captured[]>();
    for (const req of ep.receiver.requests) {
      const id = eventIdOf(req);
      byEvent.set(id, [...(byEvent.get(id) ?? []), req]);
    }
    report.received[ep.name] = ep.receiver.requests.length;
    for (const e of events) {
      if (!subscribes(ep.events, e.type)) continue;
      report.expected++;
      if (byEvent.has(e.id)) report.delivered++;
      else report.missing.push(`${ep.name} ${e.id}`);
    }
    for (const [eventId, reqs] of byEvent) {
      if (reqs.length < 2) continue;
      report.duplicates += reqs.length - 1;
      report.duplicatePairs.push({ endpoint: ep.name, eventId, count: reqs.length, deliveryIds: [...new Set(reqs.map(deliveryIdOf))] });
    }
  }
  return report;
}
