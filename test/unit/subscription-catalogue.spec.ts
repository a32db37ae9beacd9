import { validateSubscriptions, validSubscriptionValues } from '../../src/webhooks/subscription';

describe('subscriptions against a live catalogue (admin-added types)', () => {
  const live = { types: ['service.started', 'billing.invoice_paid'], categories: ['service', 'billing'] };

  it('accepts added types and their categories', () => {
    expect(validateSubscriptions(['billing.invoice_paid', 'billing.*', '*'], live)).toEqual([]);
    expect(validSubscriptionValues(live)).toEqual(['*', 'service.*', 'billing.*', 'service.started', 'billing.invoice_paid']);
  });

  it('still refuses what the catalogue lacks, listing the live values', () => {
    const [problem] = validateSubscriptions(['billing.refund'], live);
    expect(problem).toMatch(/unknown event type "billing.refund"; valid values: \*, service\.\*, billing\.\*, service\.started, billing\.invoice_paid/);
    // the built-in catalogue by default
    expect(validateSubscriptions(['billing.invoice_paid'])).toHaveLength(1);
  });

  it('null: only the shape is checked (the service checks the names)', () => {
    expect(validateSubscriptions(['anything.at_all'], null)).toEqual([]);
    expect(validateSubscriptions(['webhook.test'], null)[0]).toMatch(/cannot be subscribed/);
    expect(validateSubscriptions([], null)[0]).toMatch(/at least one/);
  });
});
