import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { PageQueryDto } from '../common/page-query.dto';
import { EVENT_TYPES } from '../events/event-catalogue';
import { Check } from './check.decorator';
import { validateSubscriptions } from './subscription';
import { MAX_HEADERS, validateHeaders, validateWebhookUrl } from './webhook-validation';
import { FILTER_OPERATORS, PayloadFilter, validateFilter } from './payload-filter';
import { PageOf } from '../common/page.dto';
import { WEBHOOK_ORDERINGS, type WebhookOrdering } from './webhook.entity';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const MIN_TIMEOUT_MS = 1_000;
export const MAX_TIMEOUT_MS = 30_000;
export const MAX_RATE_LIMIT = 100_000;

const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
/** Take the value exactly as parsed from JSON (class-transformer would rebuild nested objects). */
const raw = (key: string) => Transform(({ obj }) => (obj as Record<string, unknown>)[key]);
/** Absent (undefined) skips validation; null is validated and so rejected by the type check. */
const Absentable = () => ValidateIf((_o, v) => v !== undefined);

const Url = () =>
  applyDecorators(
    ApiProperty({ example: 'https://webhook.site/your-unique-url', maxLength: 2048, description: 'http(s) URL the events are POSTed to' }),
    trim,
    Check(validateWebhookUrl),
  );
const Name = () =>
  applyDecorators(
    ApiProperty({ example: '测试 Webhook', minLength: 1, maxLength: 100 }),
    trim,
    IsString({ message: 'name must be a string' }),
    Length(1, 100, { message: 'name must be 1 to 100 characters long (surrounding spaces are trimmed)' }),
  );
const Description = () =>
  applyDecorators(
    ApiPropertyOptional({ example: '这是测试', maxLength: 1000, default: '', nullable: true }),
    IsOptional(),
    IsString({ message: 'description must be a string' }),
    MaxLength(1000, { message: 'description must be at most 1000 characters long' }),
  );
const Events = () =>
  applyDecorators(
    ApiProperty({
      type: [String],
      example: ['service.started', 'user.created'],
      description: `Event types (${EVENT_TYPES.filter((t) => t !== 'webhook.test').join(', ')}), types added by an admin (GET /api/events/types), category wildcards (service.*, user.*, …) or "*" for all. Duplicates are dropped.`,
      items: { type: 'string', example: 'service.started' },
      maxItems: 100,
    }),
    raw('events'),
    // the names are checked by WebhooksService against the live catalogue (admins may add types)
    Check((list: unknown) => validateSubscriptions(list, null)),
  );
const RetryEnabled = () =>
  applyDecorators(
    ApiPropertyOptional({ default: true, description: 'Retry failed deliveries on the backoff schedule' }),
    IsBoolean({ message: 'retry_enabled must be true or false' }),
  );
const Enabled = () => applyDecorators(ApiPropertyOptional({ default: true }), IsBoolean({ message: 'enabled must be true or false' }));
const Secret = () =>
  applyDecorators(
    ApiPropertyOptional({
      minLength: 16,
      maxLength: 255,
      description: 'Signing secret; generated (whsec_…) when omitted. Shown in full only by create, GET …/secret and rotate-secret.',
    }),
    IsString({ message: 'secret must be a string' }),
    Length(16, 255, { message: 'secret must be 16 to 255 characters long' }),
  );
const TimeoutMs = () =>
  applyDecorators(
    ApiPropertyOptional({ default: DEFAULT_TIMEOUT_MS, minimum: MIN_TIMEOUT_MS, maximum: MAX_TIMEOUT_MS, description: 'Per-attempt timeout in milliseconds' }),
    IsInt({ message: 'timeout_ms must be a whole number of milliseconds' }),
    Min(MIN_TIMEOUT_MS, { message: `timeout_ms must be at least ${MIN_TIMEOUT_MS}` }),
    Max(MAX_TIMEOUT_MS, { message: `timeout_ms must be at most ${MAX_TIMEOUT_MS}` }),
  );
const Headers = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'string' },
      example: { Authorization: 'Bearer receiver-token' },
      description: `Extra request headers (at most ${MAX_HEADERS}). Content-Type, Host, Content-Length, Transfer-Encoding, Connection, X-ATLAS-* and webhook-* are reserved.`,
    }),
    raw('headers'),
    Check(validateHeaders),
  );
const RateLimit = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: Number,
      nullable: true,
      minimum: 1,
      maximum: MAX_RATE_LIMIT,
      example: 20,
      description:
        'Most deliveries per second to this endpoint, across all instances (null: no limit). Attempts held back wait in the queue: they are not failures and not retries.',
    }),
    IsInt({ message: 'rate_limit must be a whole number of deliveries per second, or null for no limit' }),
    Min(1, { message: 'rate_limit must be at least 1 delivery per second (null: no limit)' }),
    Max(MAX_RATE_LIMIT, { message: `rate_limit must be at most ${MAX_RATE_LIMIT} deliveries per second` }),
  );
const Ordering = () =>
  applyDecorators(
    ApiPropertyOptional({
      enum: WEBHOOK_ORDERINGS,
      default: 'none',
      description:
        '"fifo": events are delivered in the order they were recorded, one attempt in flight; an event waits until the one before it succeeded or ran out of attempts. "none": in parallel.',
    }),
    IsIn([...WEBHOOK_ORDERINGS], { message: `ordering must be one of: ${WEBHOOK_ORDERINGS.join(', ')}` }),
  );
const FILTER_EXAMPLE = { 'data.service': { $in: ['nginx', 'api'] }, 'data.node': { $eq: 'edge-1' } };
const FILTER_DESCRIPTION =
  `Optional payload filter: only events that match it are delivered (no attempt is created for the others). Keys are paths into the ` +
  `envelope ("data.<field>…" into the event data, "event" for the type) or $or / $and (arrays of filters); values are a scalar ` +
  `(short for $eq) or an object of operators (${FILTER_OPERATORS.join(' ')}). null: no filter. See the README's "Payload filters".`;
const Filter = () =>
  applyDecorators(
    ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, example: FILTER_EXAMPLE, description: FILTER_DESCRIPTION }),
    raw('filter'),
    IsOptional(),
    Check(validateFilter),
  );

export class CreateWebhookDto {
  @Url()
  url: string;

  @Name()
  name: string;

  @Description()
  description?: string | null;

  @Events()
  events: string[];

  @RetryEnabled()
  @IsOptional()
  retry_enabled?: boolean | null;

  @Secret()
  @IsOptional()
  secret?: string | null;

  @TimeoutMs()
  @IsOptional()
  timeout_ms?: number | null;

  @Headers()
  @IsOptional()
  headers?: Record<string, string> | null;

  @Enabled()
  @IsOptional()
  enabled?: boolean | null;

  @RateLimit()
  @IsOptional()
  rate_limit?: number | null;

  @Ordering()
  @IsOptional()
  ordering?: WebhookOrdering | null;

  @Filter()
  filter?: PayloadFilter | null;
}

/** Any subset of the create fields. null resets description and headers; for the other fields it is an error. */
export class UpdateWebhookDto {
  @Url()
  @Absentable()
  url?: string;

  @Name()
  @Absentable()
  name?: string;

  @Description()
  description?: string | null;

  @Events()
  @Absentable()
  events?: string[];

  @RetryEnabled()
  @Absentable()
  retry_enabled?: boolean;

  @Secret()
  @Absentable()
  secret?: string;

  @TimeoutMs()
  @Absentable()
  timeout_ms?: number;

  @Headers()
  @IsOptional()
  headers?: Record<string, string> | null;

  @Enabled()
  @Absentable()
  enabled?: boolean;

  /** null removes the limit. */
  @RateLimit()
  @IsOptional()
  rate_limit?: number | null;

  @Ordering()
  @Absentable()
  ordering?: WebhookOrdering;

  /** null removes the filter. */
  @Filter()
  filter?: PayloadFilter | null;
}

export class WebhookListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only enabled (true) or disabled (false) webhooks', enum: ['true', 'false'] })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'Only webhooks that receive this event type (wildcard subscriptions included)', example: 'service.started' })
  @IsOptional()
  @IsString({ message: 'event must be a single event type' })
  event?: string;
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: '测试 Webhook' })
  name: string;

  @ApiProperty({ example: '这是测试' })
  description: string;

  @ApiProperty({ example: 'https://webhook.site/your-unique-url' })
  url: string;

  @ApiProperty({ type: [String], example: ['service.started', 'user.created'] })
  events: string[];

  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: FILTER_EXAMPLE, description: 'Payload filter, or null' })
  filter: PayloadFilter | null;

  @ApiProperty()
  retry_enabled: boolean;

  @ApiProperty({ example: DEFAULT_TIMEOUT_MS })
  timeout_ms: number;

  @ApiProperty({ nullable: true, type: Number, example: 20, description: 'Most deliveries per second, across all instances (null: no limit)' })
  rate_limit: number | null;

  @ApiProperty({ enum: WEBHOOK_ORDERINGS, example: 'none', description: '"fifo": in the order recorded, one in flight; "none": in parallel' })
  ordering: WebhookOrdering;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Custom headers (sensitive values masked for viewers)' })
  headers: Record<string, string>;

  @ApiProperty({ example: '********Ab3=', description: 'Masked; the full secret only from create, GET …/secret and rotate-secret' })
  secret: string;

  @ApiProperty({ nullable: true, type: String })
  last_error: string | null;

  @ApiProperty({ nullable: true, type: String, example: '2026-01-01T12:00:00.000Z' })
  last_triggered_at: string | null;

  @ApiProperty({ nullable: true, type: String })
  last_success_at: string | null;

  @ApiProperty({ nullable: true, type: String })
  last_failure_at: string | null;

  @ApiProperty({ description: 'Failed attempts since the last success' })
  consecutive_failures: number;

  @ApiProperty({ nullable: true, type: String, description: 'When the current run of failures started' })
  failing_since: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'Why the webhook was disabled (by an operator, 410 Gone, or failing too long)' })
  disabled_reason: string | null;

  @ApiProperty()
  created_at: string;

  @ApiProperty()
  updated_at: string;
}

export class WebhookWithSecretDto extends WebhookDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'The full signing secret (shown in this response only)' })
  override secret: string = '';
}

export class WebhookListDto extends PageOf(WebhookDto) {}

export class WebhookSecretDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  secret: string;

  @ApiProperty({ nullable: true, type: String, description: 'The secret before the last rotation, still accepted until it expires' })
  previous_secret: string | null;

  @ApiProperty({ nullable: true, type: String, example: '2026-01-02T12:00:00.000Z' })
  previous_secret_expires_at: string | null;
}

export class RotatedSecretDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  secret: string;

  @ApiProperty({ example: '2026-01-02T12:00:00.000Z', description: 'Until then deliveries are also signed with the previous secret' })
  previous_secret_expires_at: string;
}

export class FilterTestDto {
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: FILTER_EXAMPLE, description: FILTER_DESCRIPTION })
  @raw('filter')
  @Check((v) => (v === undefined ? ['filter is required (an object, or null for no filter)'] : validateFilter(v)))
  filter: PayloadFilter | null;

  @ApiProperty({
    description: 'The event data to try the filter on (what POST /api/events takes as `data`; paths "data.…" look into it)',
    example: { service: 'nginx', node: 'edge-1' },
  })
  @raw('payload')
  @Check((v) => (v === undefined ? ['payload is required (the event data, any JSON value)'] : []))
  payload: unknown;

  @ApiPropertyOptional({ example: 'service.started', description: 'The event type (for filters on "event"); default service.started' })
  @IsOptional()
  @IsString({ message: 'type must be an event type' })
  type?: string;
}

export class FilterTestResultDto {
  @ApiProperty({ description: 'Whether an event with this data (and type) would be delivered to a webhook with this filter' })
  matches: boolean;
}
