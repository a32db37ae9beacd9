/**
 * JSON Schemas (draft 2020-12 subset that Ajv's default class reads, draft-07
 * style) and examples for the `data` of the built-in ATLAS event types. They
 * describe what ATLAS producers usually send; they are not enforced until an
 * admin turns enforcement on for a type (PATCH /api/events/types/{type}).
 * Every schema allows further properties: existing producers send more.
 */

export type JsonSchema = Record<string, unknown>;

export interface TypeSchema {
  schema: JsonSchema;
  example: Record<string, unknown>;
}

const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', minLength: 1, description, ...extra });
const int = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description });
const time = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });

function object(properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: true };
}

const SERVICE = {
  service: str('Service name, e.g. nginx'),
  service_id: str('Service id in ATLAS'),
  node: str('Node the service runs on'),
};
const USER = {
  user: str('Username'),
  user_id: str('User id in ATLAS'),
  email: str('E-mail address of the user', { format: 'email' }),
};
const DOMAIN = {
  domain: str('Domain name', { format: 'hostname' }),
};
const CERT = {
  ...DOMAIN,
  expires_at: time('When the certificate expires (ISO 8601)'),
  issuer: str('Certificate issuer, e.g. "Let\'s Encrypt"'),
};
const BACKUP = {
  backup_id: str('Backup id'),
  service: str('Service that was backed up'),
  size_bytes: int('Size of the backup in bytes'),
  location: str('Where the backup is stored'),
};

const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const ABOUT = {
  webhook_id: str('The webhook the event is about', { format: 'uuid' }),
  webhook_name: { type: ['string', 'null'], description: 'Its name' },
  reason: { type: ['string', 'null'], description: 'What happened, in words' },
};
const ABOUT_EXAMPLE = { webhook_id: '0b6a3f0e-2a3c-4d1e-9f57-3c2b1a0d9e8f', webhook_name: 'Billing endpoint' };
const LAST_FAILURE = {
  last_error: { type: ['string', 'null'], description: 'The latest error' },
  status_code: { type: ['integer', 'null'], description: 'HTTP status of the latest failure, when there was one' },
};

export const BUILTIN_SCHEMAS: Record<string, TypeSchema> = {
  'service.started': { schema: object(SERVICE, ['service']), example: { service: 'nginx', service_id: 'svc-42', node: 'edge-1' } },
  'service.stopped': { schema: object(SERVICE, ['service']), example: { service: 'nginx', service_id: 'svc-42', node: 'edge-1' } },
  'service.created': { schema: object(SERVICE, ['service']), example: { service: 'postgres', service_id: 'svc-43', node: 'db-1' } },
  'service.deleted': { schema: object(SERVICE, ['service']), example: { service: 'postgres', service_id: 'svc-43' } },
  'user.created': { schema: object(USER, ['user']), example: { user: 'alice', user_id: 'u-7', email: 'alice@example.com' } },
  'user.deleted': { schema: object(USER, ['user']), example: { user: 'alice', user_id: 'u-7' } },
  'user.disabled': { schema: object({ ...USER, reason: str('Why the user was disabled') }, ['user']), example: { user: 'alice', reason: 'unpaid invoice' } },
  'user.enabled': { schema: object(USER, ['user']), example: { user: 'alice', user_id: 'u-7' } },
  'user.quota_exceeded': {
    schema: object({ ...USER, quota_bytes: int('Traffic quota in bytes'), used_bytes: int('Traffic used in bytes') }, ['user']),
    example: { user: 'alice', quota_bytes: 107374182400, used_bytes: 107374200000 },
  },
  'user.expired': {
    schema: object({ ...USER, expired_at: time('When the account expired (ISO 8601)') }, ['user']),
    example: { user: 'alice', expired_at: '2026-12-31T00:00:00Z' },
  },
  'domain.created': { schema: object(DOMAIN, ['domain']), example: { domain: 'shop.example.com' } },
  'domain.cert_issued': {
    schema: object(CERT, ['domain', 'expires_at']),
    example: { domain: 'shop.example.com', expires_at: '2027-03-01T00:00:00Z', issuer: "Let's Encrypt" },
  },
  'domain.cert_renewed': {
    schema: object(CERT, ['domain', 'expires_at']),
    example: { domain: 'shop.example.com', expires_at: '2027-06-01T00:00:00Z', issuer: "Let's Encrypt" },
  },
  'domain.cert_expiring': {
    schema: object({ ...CERT, days_left: int('Days until the certificate expires') }, ['domain', 'expires_at']),
    example: { domain: 'shop.example.com', expires_at: '2027-03-01T00:00:00Z', days_left: 7 },
  },
  'domain.deleted': { schema: object(DOMAIN, ['domain']), example: { domain: 'shop.example.com' } },
  'backup.created': {
    schema: object(BACKUP, ['backup_id']),
    example: { backup_id: 'bk-2026-12-01', service: 'postgres', size_bytes: 1048576, location: 's3://backups/bk-2026-12-01.tar.gz' },
  },
  'backup.restored': { schema: object(BACKUP, ['backup_id']), example: { backup_id: 'bk-2026-12-01', service: 'postgres' } },
  'backup.deleted': { schema: object(BACKUP, ['backup_id']), example: { backup_id: 'bk-2026-12-01' } },
  'system.health_warning': {
    schema: object({ component: str('The part of the system concerned'), message: str('What is wrong'), node: str('Node') }, ['message']),
    example: { component: 'database', message: 'replication lag above 30 s', node: 'db-1' },
  },
  'system.resource_alert': {
    schema: object(
      {
        resource: { type: 'string', enum: ['cpu', 'memory', 'disk', 'traffic'], description: 'Which resource' },
        value: { type: 'number', description: 'Current value (percent, or bytes for traffic)' },
        threshold: { type: 'number', description: 'The threshold that was crossed' },
        node: str('Node'),
      },
      ['resource', 'value'],
    ),
    example: { resource: 'disk', value: 92.5, threshold: 90, node: 'edge-1' },
  },
  'system.error': {
    schema: object({ message: str('The error'), code: str('Error code'), component: str('Where it happened') }, ['message']),
    example: { message: 'certificate renewal failed', code: 'ACME_RATE_LIMITED', component: 'acme' },
  },
  'webhook.test': {
    schema: object({ webhook_id: str('The webhook tested', { format: 'uuid' }), webhook_name: str('Its name'), message: str('A fixed text') }, [
      'webhook_id',
      'message',
    ]),
    example: { webhook_id: '0b6a3f0e-2a3c-4d1e-9f57-3c2b1a0d9e8f', webhook_name: 'My endpoint', message: 'This is a test delivery from ATLAS Webhooks.' },
  },
  // the operational events, raised only by the service (WebhooksService.raiseStateChanges, raiseAttemptsExhausted)
  'webhook.endpoint_failing': {
    schema: object(
      { ...ABOUT, consecutive_failures: int('Failed attempts in a row'), failing_since: nullable(time('When the failures began')), ...LAST_FAILURE },
      ['webhook_id', 'webhook_name', 'reason'],
    ),
    example: {
      ...ABOUT_EXAMPLE,
      reason: '5 failed attempts in a row (WEBHOOK_FAILING_AFTER_FAILURES=5)',
      consecutive_failures: 5,
      failing_since: '2026-12-03T09:00:00.000Z',
      last_error: 'HTTP 502 Bad Gateway',
      status_code: 502,
    },
  },
  'webhook.endpoint_disabled': {
    schema: object(
      { ...ABOUT, consecutive_failures: int('Failed attempts in a row'), failing_since: nullable(time('When the failures began')), ...LAST_FAILURE },
      ['webhook_id', 'webhook_name', 'reason'],
    ),
    example: {
      ...ABOUT_EXAMPLE,
      reason: 'the endpoint answered 410 Gone',
      consecutive_failures: 1,
      failing_since: '2026-12-03T09:00:00.000Z',
      last_error: 'HTTP 410 Gone',
      status_code: null,
    },
  },
  'webhook.endpoint_recovered': {
    schema: object({ ...ABOUT, failed_attempts: int('Failed attempts in a row before the success'), last_error: LAST_FAILURE.last_error }, [
      'webhook_id',
      'webhook_name',
      'reason',
    ]),
    example: { ...ABOUT_EXAMPLE, reason: 'delivered successfully after 7 failed attempts in a row', failed_attempts: 7, last_error: 'HTTP 502 Bad Gateway' },
  },
  'webhook.attempts_exhausted': {
    schema: object(
      { ...ABOUT, event_id: str('The event not delivered', { format: 'uuid' }), event_type: str('Its type'), attempts: int('Attempts made'), ...LAST_FAILURE },
      ['webhook_id', 'webhook_name', 'reason', 'event_id', 'event_type'],
    ),
    example: {
      ...ABOUT_EXAMPLE,
      event_id: '5d1e7c7a-61b8-4d5e-8a0e-1f2b3c4d5e6f',
      event_type: 'service.started',
      attempts: 8,
      reason: 'the event was not delivered after 8 attempts; no retry is left',
      status_code: 500,
      last_error: 'HTTP 500 Internal Server Error',
    },
  },
};
