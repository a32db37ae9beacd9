import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { BUILTIN_SCHEMAS } from '../../src/events/builtin-schemas';
import { EVENT_TYPES } from '../../src/events/event-catalogue';

describe('built-in event schemas', () => {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
  addFormats(ajv);

  it('cover exactly the catalogue', () => {
    expect(Object.keys(BUILTIN_SCHEMAS).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(Object.entries(BUILTIN_SCHEMAS))('%s: the schema compiles in strict mode and its example matches it', (_type, { schema, example }) => {
    const validate = ajv.compile(schema);
    expect(validate(example)).toBe(true);
    expect(validate.errors ?? null).toBeNull();
  });

  it('name the usual fields: a service event the service, a user event the user, a certificate event the domain and the expiry', () => {
    expect(BUILTIN_SCHEMAS['service.started'].schema.required).toEqual(['service']);
    expect(BUILTIN_SCHEMAS['user.created'].schema.required).toEqual(['user']);
    expect(BUILTIN_SCHEMAS['domain.cert_issued'].schema.required).toEqual(['domain', 'expires_at']);
    expect(BUILTIN_SCHEMAS['backup.created'].schema.required).toEqual(['backup_id']);
  });

  it('refuse what they should when enforced (every failing path at once)', () => {
    const validate = ajv.compile(BUILTIN_SCHEMAS['system.resource_alert'].schema);
    expect(validate({ resource: 'gpu', value: 'high' })).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath).sort()).toEqual(['/resource', '/value']);
  });
});
