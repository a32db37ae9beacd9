/**
 * Subscriptions are catalogue types (`service.started`), category wildcards
 * (`service.*`) or `*` (everything). A webhook with subscriptions S receives an
 * event of type T when S contains one of `subscriptionKeys(T)`, which is what
 * the fan-out query asks PostgreSQL (`events && keys`, GIN-indexed).
 *
 * The operational events (`webhook.endpoint_failing`, … : the service's own
 * news about deliveries) are not part of `*`: only `webhook.*` or their names
 * select them, so an endpoint subscribed to everything the panel does is not
 * sent the delivery system's alerts unasked (and an existing `*` webhook does
 * not start receiving new kinds of events on upgrade).
 */
import { categoryOf, CATEGORIES, EVENT_TYPES, isOperationalType, TEST_EVENT_TYPE } from '../events/event-catalogue';

export const MAX_SUBSCRIPTIONS = 100;
export const ALL_EVENTS = '*';

/** Categories one can subscribe to with `<category>.*` (`webhook.*`: the operational events; test deliveries are not subscribable). */
export const SUBSCRIBABLE_CATEGORIES: readonly string[] = [...CATEGORIES];
/** Catalogue types one can subscribe to by name. */
export const SUBSCRIBABLE_TYPES: readonly string[] = EVENT_TYPES.filter((t) => t !== TEST_EVENT_TYPE);

/** What one may subscribe to: the built-in catalogue by default; EventsService.subscribable() adds admin-added types. */
export interface SubscribableCatalogue {
  types: readonly string[];
  categories: readonly string[];
}
const BUILT_IN: SubscribableCatalogue = { types: SUBSCRIBABLE_TYPES, categories: SUBSCRIBABLE_CATEGORIES };

/** Every valid subscription value, for error messages and docs. */
export function validSubscriptionValues(known: SubscribableCatalogue = BUILT_IN): string[] {
  return [ALL_EVENTS, ...known.categories.map((c) => `${c}.*`), ...known.types];
}

/** The subscription values that select `type`: the type itself, its category wildcard and `*` (not for operational events). */
export function subscriptionKeys(type: string): string[] {
  const dot = type.indexOf('.');
  const category = categoryOf(type) ?? (dot > 0 ? type.slice(0, dot) : type);
  return isOperationalType(type) ? [type, `${category}.*`] : [type, `${category}.*`, ALL_EVENTS];
}

/** Does a webhook with these subscriptions receive events of `type`? (Same rule as the SQL match.) */
export function matchesSubscription(subscriptions: readonly string[], type: string): boolean {
  const keys = subscriptionKeys(type);
  return subscriptions.some((s) => keys.includes(s));
}

/** The catalogue types (the live one's, when given) a webhook with these subscriptions receives (replay looks for events of these). */
export function subscribedTypes(subscriptions: readonly string[], known: SubscribableCatalogue = BUILT_IN): string[] {
  return known.types.filter((t) => matchesSubscription(subscriptions, t));
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value.slice(0, 100)}"` : (JSON.stringify(value)?.slice(0, 100) ?? String(value));
}

/**
 * Problems with a subscription list (empty when it is valid). Duplicates are not problems: see `normalizeSubscriptions`.
 * `known` null: the names are not checked against a catalogue (the service checks them with the live one).
 */
export function validateSubscriptions(list: unknown, known: SubscribableCatalogue | null = BUILT_IN): string[] {
  if (!Array.isArray(list)) return ['events must be an array of event types'];
  if (list.length === 0) return ['events must contain at least one event type (or "*" for all)'];
  const problems: string[] = [];
  if (list.length > MAX_SUBSCRIPTIONS) problems.push(`events may contain at most ${MAX_SUBSCRIPTIONS} entries, got ${list.length}`);
  const valid = known ? new Set(validSubscriptionValues(known)) : null;
  const unknown: string[] = [];
  list.forEach((value, i) => {
    if (typeof value !== 'string') {
      problems.push(`events[${i}] must be a string, got ${describe(value)}`);
    } else if (value === TEST_EVENT_TYPE) {
      problems.push(`events[${i}] ${describe(value)} cannot be subscribed to: test deliveries go only to the webhook being tested`);
    } else if (valid && !valid.has(value)) {
      unknown.push(describe(value));
    }
  });
  if (unknown.length) {
    problems.push(
      `events contains unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid values: ${validSubscriptionValues(known ?? BUILT_IN).join(', ')}`,
    );
  }
  return problems;
}

/** The list without duplicates, first occurrence kept. */
export function normalizeSubscriptions(list: readonly string[]): string[] {
  return [...new Set(list)];
}
