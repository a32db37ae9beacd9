import { CATEGORIES, categoryOf, describeCatalogue, EVENT_TYPES, isEventType, OPERATIONAL_TYPES } from '../../src/events/event-catalogue';

/** The catalogue as DESIGN.md §4 lists it. */
const DESIGN_TYPES = [
  'service.started',
  'service.stopped',
  'service.created',
  'service.deleted',
  'user.created',
  'user.deleted',
  'user.disabled',
  'user.enabled',
  'user.quota_exceeded',
  'user.expired',
  'domain.created',
  'domain.cert_issued',
  'domain.cert_renewed',
  'domain.cert_expiring',
  'domain.deleted',
  'backup.created',
  'backup.restored',
  'backup.deleted',
  'system.health_warning',
  'system.resource_alert',
  'system.error',
  'webhook.test',
];
/** The operational events of issue 13 (raised by the service about its own deliveries). */
const OPERATIONAL = ['webhook.endpoint_failing', 'webhook.endpoint_disabled', 'webhook.endpoint_recovered', 'webhook.attempts_exhausted'];

describe('event catalogue', () => {
  it('has exactly the types of DESIGN.md plus the operational events', () => {
    expect([...EVENT_TYPES].sort()).toEqual([...DESIGN_TYPES, ...OPERATIONAL].sort());
    expect([...OPERATIONAL_TYPES].sort()).toEqual([...OPERATIONAL].sort());
  });

  it('has unique type names', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
  });

  it('puts every type in the category its name starts with, and every category is used', () => {
    for (const entry of describeCatalogue()) {
      expect(entry.type.split('.')[0]).toBe(entry.category);
      expect(categoryOf(entry.type)).toBe(entry.category);
    }
    expect(new Set(describeCatalogue().map((e) => e.category))).toEqual(new Set(CATEGORIES));
  });

  it('describes every type in one non-empty English line', () => {
    for (const entry of describeCatalogue()) {
      expect(entry.description).toMatch(/^[A-Z][^\n]{3,200}$/);
    }
  });

  it('recognises catalogue types only, case-sensitively', () => {
    expect(isEventType('service.started')).toBe(true);
    expect(isEventType('webhook.test')).toBe(true);
    expect(isEventType('Service.Started')).toBe(false);
    expect(isEventType('service.*')).toBe(false);
    expect(isEventType('service.started ')).toBe(false);
    expect(isEventType(42)).toBe(false);
    expect(isEventType(undefined)).toBe(false);
  });

  it('hands out copies, so callers cannot change the catalogue', () => {
    const copy = describeCatalogue();
    copy[0].description = 'changed';
    expect(describeCatalogue()[0].description).not.toBe('changed');
  });
});
