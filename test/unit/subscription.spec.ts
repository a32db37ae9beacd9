import { EVENT_TYPES } from '../../src/events/event-catalogue';
import { matchesSubscription, normalizeSubscriptions, subscriptionKeys, validateSubscriptions, validSubscriptionValues } from '../../src/webhooks/subscription';

describe('subscriptionKeys', () => {
  it('is the type, its category wildcard and *', () => {
    expect(subscriptionKeys('service.started')).toEqual(['service.started', 'service.*', '*']);
    expect(subscriptionKeys('domain.cert_expiring')).toEqual(['domain.cert_expiring', 'domain.*', '*']);
    expect(subscriptionKeys('webhook.test')).toEqual(['webhook.test', 'webhook.*', '*']);
  });

  it('leaves * out for the operational events: only webhook.* or the name selects them', () => {
    expect(subscriptionKeys('webhook.endpoint_failing')).toEqual(['webhook.endpoint_failing', 'webhook.*']);
    expect(matchesSubscription(['*'], 'webhook.endpoint_disabled')).toBe(false);
    expect(matchesSubscription(['webhook.*'], 'webhook.endpoint_disabled')).toBe(true);
    expect(matchesSubscription(['webhook.attempts_exhausted'], 'webhook.attempts_exhausted')).toBe(true);
    expect(matchesSubscription(['*', 'service.*'], 'webhook.endpoint_recovered')).toBe(false);
  });
});

describe('matchesSubscription', () => {
  const cases: Array<[string[], string, boolean]> = [
    [['service.started'], 'service.started', true],
    [['service.started'], 'service.stopped', false],
    [['service.*'], 'service.stopped', true],
    [['service.*'], 'user.created', false],
    [['*'], 'system.error', true],
    [['user.created', 'domain.*'], 'domain.cert_issued', true],
    [['user.created', 'domain.*'], 'backup.created', false],
    [[], 'service.started', false],
    // no prefix or case tricks
    [['service'], 'service.started', false],
    [['Service.Started'], 'service.started', false],
    [['service.start'], 'service.started', false],
    [['user.*'], 'users.created', false],
  ];
  it.each(cases)('%j receives %s: %s', (subs, type, expected) => {
    expect(matchesSubscription(subs, type)).toBe(expected);
  });

  it('matches exactly the documented rule (exact type, "<category>.*" prefix, or "*") for every catalogue type and subscription value', () => {
    const rule = (value: string, type: string) =>
      (value === '*' && !type.startsWith('webhook.')) || value === type || (value.endsWith('.*') && type.startsWith(value.slice(0, -1)));
    for (const value of validSubscriptionValues()) {
      for (const type of EVENT_TYPES.filter((t) => t !== 'webhook.test')) {
        expect([value, type, matchesSubscription([value], type)]).toEqual([value, type, rule(value, type)]);
      }
    }
  });
});

describe('validateSubscriptions', () => {
  it('accepts types, category wildcards and *', () => {
    expect(validateSubscriptions(['service.started', 'user.created'])).toEqual([]);
    expect(validateSubscriptions(['service.*', 'system.*', '*'])).toEqual([]);
    expect(validateSubscriptions(validSubscriptionValues())).toEqual([]);
  });

  it('rejects a non-array and an empty list', () => {
    expect(validateSubscriptions('service.started')).toEqual(['events must be an array of event types']);
    expect(validateSubscriptions(undefined)).toEqual(['events must be an array of event types']);
    expect(validateSubscriptions([])[0]).toMatch(/at least one/);
  });

  it('names unknown types and lists the valid values', () => {
    const [problem] = validateSubscriptions(['service.started', 'service.exploded', 'nope']);
    expect(problem).toMatch(/unknown event types "service.exploded", "nope"/);
    expect(problem).toContain('service.started');
    expect(problem).toContain('system.resource_alert');
    expect(problem).toContain('service.*');
  });

  it('rejects non-strings by position', () => {
    expect(validateSubscriptions(['user.created', 7, null])).toEqual(['events[1] must be a string, got 7', 'events[2] must be a string, got null']);
  });

  it('rejects wildcards of unknown categories and partial wildcards', () => {
    expect(validateSubscriptions(['users.*'])).toHaveLength(1);
    expect(validateSubscriptions(['service.start*'])).toHaveLength(1);
    expect(validateSubscriptions(['**'])).toHaveLength(1);
  });

  it('does not allow subscribing to test deliveries, but to the operational events', () => {
    expect(validateSubscriptions(['webhook.test'])[0]).toMatch(/cannot be subscribed/);
    expect(validateSubscriptions(['webhook.*'])).toEqual([]);
    expect(validateSubscriptions(['webhook.endpoint_failing', 'webhook.attempts_exhausted'])).toEqual([]);
  });

  it('caps the list at 100 entries', () => {
    const list = Array.from({ length: 101 }, () => 'service.started');
    expect(validateSubscriptions(list)).toEqual(['events may contain at most 100 entries, got 101']);
  });
});

describe('normalizeSubscriptions', () => {
  it('drops duplicates and keeps the first order', () => {
    expect(normalizeSubscriptions(['user.created', 'service.*', 'user.created', '*', 'service.*'])).toEqual(['user.created', 'service.*', '*']);
  });
});
