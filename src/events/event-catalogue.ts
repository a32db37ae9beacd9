/**
 * The event catalogue: the one source of truth for event type names, their
 * categories and descriptions. Subscriptions, `emit`, the REST API and the
 * Swagger docs all read it from here.
 */

export const CATEGORIES = ['service', 'user', 'domain', 'backup', 'system', 'webhook'] as const;
export type EventCategory = (typeof CATEGORIES)[number];

export interface EventTypeInfo {
  type: string;
  category: EventCategory;
  description: string;
}

const CATALOGUE = [
  { type: 'service.started', category: 'service', description: 'A service started' },
  { type: 'service.stopped', category: 'service', description: 'A service stopped' },
  { type: 'service.created', category: 'service', description: 'A service was created' },
  { type: 'service.deleted', category: 'service', description: 'A service was deleted' },
  { type: 'user.created', category: 'user', description: 'A user was created' },
  { type: 'user.deleted', category: 'user', description: 'A user was deleted' },
  { type: 'user.disabled', category: 'user', description: 'A user was disabled' },
  { type: 'user.enabled', category: 'user', description: 'A user was enabled' },
  { type: 'user.quota_exceeded', category: 'user', description: "A user's traffic quota was exceeded" },
  { type: 'user.expired', category: 'user', description: "A user's account expired" },
  { type: 'domain.created', category: 'domain', description: 'A domain was added' },
  { type: 'domain.cert_issued', category: 'domain', description: 'A certificate was issued for a domain' },
  { type: 'domain.cert_renewed', category: 'domain', description: "A domain's certificate was renewed" },
  { type: 'domain.cert_expiring', category: 'domain', description: "A domain's certificate is about to expire" },
  { type: 'domain.deleted', category: 'domain', description: 'A domain was deleted' },
  { type: 'backup.created', category: 'backup', description: 'A backup was created' },
  { type: 'backup.restored', category: 'backup', description: 'A backup was restored' },
  { type: 'backup.deleted', category: 'backup', description: 'A backup was deleted' },
  { type: 'system.health_warning', category: 'system', description: 'Health warning' },
  { type: 'system.resource_alert', category: 'system', description: 'Resource alert (CPU, memory, disk or traffic)' },
  { type: 'system.error', category: 'system', description: 'System error' },
  {
    type: 'webhook.test',
    category: 'webhook',
    description: 'Test delivery sent by POST /api/webhooks/{id}/test to one webhook only (not subscribable, not emittable through POST /api/events)',
  },
  // operational events: raised by the service about its own deliveries (not emittable through POST /api/events;
  // `*` does not include them: subscribe to `webhook.*` or by name)
  {
    type: 'webhook.endpoint_failing',
    category: 'webhook',
    description: 'A webhook has failed WEBHOOK_FAILING_AFTER_FAILURES times in a row (raised by the service; not included in "*")',
  },
  {
    type: 'webhook.endpoint_disabled',
    category: 'webhook',
    description: 'A webhook was disabled automatically: its endpoint answered 410 Gone, or failed for WEBHOOK_DISABLE_AFTER_HOURS (raised by the service)',
  },
  {
    type: 'webhook.endpoint_recovered',
    category: 'webhook',
    description: 'A webhook reported as failing delivered successfully again (raised by the service)',
  },
  {
    type: 'webhook.attempts_exhausted',
    category: 'webhook',
    description: "An event's last attempt to a webhook failed and no retry is left (raised by the service)",
  },
] as const satisfies readonly EventTypeInfo[];

export type EventType = (typeof CATALOGUE)[number]['type'];

/** The type sent by `POST /api/webhooks/{id}/test`; never fanned out to subscribers. */
export const TEST_EVENT_TYPE = 'webhook.test' satisfies EventType;

/** Events the service raises about its own deliveries (category `webhook`, every type but the test). */
export const OPERATIONAL_TYPES: readonly EventType[] = CATALOGUE.filter((e) => e.category === 'webhook' && e.type !== TEST_EVENT_TYPE).map((e) => e.type);

export function isOperationalType(type: string): boolean {
  return (OPERATIONAL_TYPES as readonly string[]).includes(type);
}

/** Every type name, in catalogue order. */
export const EVENT_TYPES: readonly EventType[] = CATALOGUE.map((e) => e.type);

const BY_TYPE: ReadonlyMap<string, EventTypeInfo> = new Map(CATALOGUE.map((e) => [e.type, e]));

export function isEventType(t: unknown): t is EventType {
  return typeof t === 'string' && BY_TYPE.has(t);
}

export function isCategory(c: unknown): c is EventCategory {
  return typeof c === 'string' && (CATEGORIES as readonly string[]).includes(c);
}

/** The category of a catalogue type (the part before the dot), or undefined for an unknown type. */
export function categoryOf(type: string): EventCategory | undefined {
  return BY_TYPE.get(type)?.category;
}

/** The catalogue as plain objects (a copy), for the REST API and docs. */
export function describeCatalogue(): EventTypeInfo[] {
  return CATALOGUE.map((e) => ({ type: e.type, category: e.category, description: e.description }));
}

/** "service.started, service.stopped, …" for error messages. */
export function listEventTypes(types: readonly string[] = EVENT_TYPES): string {
  return types.join(', ');
}
