import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsISO8601, IsObject, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import { PageQueryDto } from '../common/page-query.dto';
import { CATEGORIES, EVENT_TYPES } from './event-catalogue';

export class EventTypeDto {
  @ApiProperty({ example: 'service.started' })
  type: string;

  @ApiProperty({ example: 'service', description: `The part before the first dot: ${CATEGORIES.join(', ')}, or one an admin's type brought` })
  category: string;

  @ApiProperty({ example: 'A service started' })
  description: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JSON Schema (draft-07) of the event `data`',
    example: BUILTIN_SCHEMAS['service.started'].schema,
  })
  schema: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'An example `data` that matches the schema',
    example: BUILTIN_SCHEMAS['service.started'].example,
  })
  example: Record<string, unknown>;

  @ApiProperty({ description: 'true: emits whose data does not match the schema are refused (422). Built-in types start false, admin-added ones true.' })
  enforced: boolean;

  @ApiProperty({ description: 'true: still accepted, but flagged (emit answers carry `deprecated: true` and a `Deprecation: true` header)' })
  deprecated: boolean;

  @ApiProperty({ description: 'true: one of the built-in ATLAS types; false: added by an admin' })
  builtin: boolean;

  @ApiProperty({ example: 1, description: 'Schema version, raised on every schema change' })
  version: number;
}

export class CreateEventTypeDto {
  @ApiProperty({
    example: 'billing.invoice_paid',
    description: '"<category>.<name>", lowercase letters, digits and underscores; the category may be new (not "webhook")',
  })
  @IsString({ message: 'type must be a string' })
  @MaxLength(100, { message: 'type must be at most 100 characters long' })
  type: string;

  @ApiProperty({ example: 'An invoice was paid', maxLength: 500 })
  @IsString({ message: 'description must be a string' })
  @Length(1, 500, { message: 'description must be 1 to 500 characters long' })
  description: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JSON Schema (draft-07) of `data`, checked by Ajv (unknown keywords are refused)',
    example: {
      type: 'object',
      properties: { invoice_id: { type: 'string' }, amount_cents: { type: 'integer', minimum: 0 } },
      required: ['invoice_id', 'amount_cents'],
    },
  })
  @IsObject({ message: 'schema must be a JSON object' })
  schema: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'An example `data`; must match the schema',
    example: { invoice_id: 'inv-1001', amount_cents: 4900 },
  })
  @IsObject({ message: 'example must be a JSON object' })
  example: Record<string, unknown>;

  @ApiPropertyOptional({ default: true, description: 'Refuse non-matching data from the start (default true for added types)' })
  @IsOptional()
  @IsBoolean({ message: 'enforced must be true or false' })
  enforced?: boolean;
}

export class UpdateEventTypeDto {
  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @Length(1, 500, { message: 'description must be 1 to 500 characters long' })
  description?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A new JSON Schema of `data` (raises `version`); the example must match it' })
  @IsOptional()
  @IsObject({ message: 'schema must be a JSON object' })
  schema?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A new example `data`' })
  @IsOptional()
  @IsObject({ message: 'example must be a JSON object' })
  example?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Turn enforcement on or off' })
  @IsOptional()
  @IsBoolean({ message: 'enforced must be true or false' })
  enforced?: boolean;

  @ApiPropertyOptional({ description: 'Mark the type deprecated (still accepted, flagged) or not' })
  @IsOptional()
  @IsBoolean({ message: 'deprecated must be true or false' })
  deprecated?: boolean;
}

/** Swagger shape of the POST /api/events body (validated by parseEmitBody, see emit-body.ts). */
export class EmitEventDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Your own id for the event (otherwise one is generated). Sending the same id again with the same type and data returns the first event (200, replayed); with other type or data, 409.',
  })
  id?: string;

  @ApiProperty({
    example: 'service.started',
    description: `A catalogue type (GET /api/events/types): ${EVENT_TYPES.filter((t) => !t.startsWith('webhook.')).join(', ')}, or one an admin added`,
  })
  type: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      "The event data: a JSON object (default {}), checked against the type's schema when the type is enforced (422 otherwise). Stored and delivered as canonical JSON.",
    example: BUILTIN_SCHEMAS['service.started'].example,
  })
  data?: Record<string, unknown>;
}

export class EmittedEventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'service.started' })
  type: string;

  @ApiPropertyOptional({ description: 'Present (true) on a replay: the event was stored by an earlier request with the same Idempotency-Key or id' })
  replayed?: boolean;

  @ApiPropertyOptional({ description: 'Present (true) when the type is deprecated' })
  deprecated?: boolean;
}

export class EventListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'service.started', description: `Only events of this type (${EVENT_TYPES.join(', ')} or an added one)` })
  @IsOptional()
  @IsString()
  type?: string;

  @ApiPropertyOptional({ example: 'service', description: `Only events of this category (${CATEGORIES.join(', ')} or an added one)` })
  @IsOptional()
  @IsString({ message: 'category must be a string' })
  @MaxLength(50, { message: 'category must be at most 50 characters long' })
  category?: string;

  @ApiPropertyOptional({ description: 'The `next_cursor` of the previous page: the events after it (keyset on created_at, id)' })
  @IsOptional()
  @IsString({ message: 'cursor must be a string' })
  cursor?: string;

  @ApiPropertyOptional({ description: 'Only events created at or after this ISO 8601 timestamp (inclusive)', example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 timestamp' })
  since?: string;

  @ApiPropertyOptional({ description: 'Only events created before this ISO 8601 timestamp (exclusive)', example: '2027-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 timestamp' })
  until?: string;
}

export class EventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'service.started' })
  type: string;

  @ApiProperty({ description: 'The event payload', type: 'object', additionalProperties: true })
  data: unknown;

  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ nullable: true, type: String, description: 'When the event was matched to its subscribers; null while pending' })
  fanned_out_at: string | null;

  @ApiPropertyOptional({ description: 'Present (true) when the type of the event is deprecated' })
  deprecated?: boolean;
}

export class EventListDto {
  @ApiProperty({ type: [EventDto] })
  items: EventDto[];

  @ApiProperty({ type: Number, nullable: true, description: 'Matching events, counted up to 10,000; null on cursor pages and searches by data field' })
  total: number | null;

  @ApiProperty({ description: 'true when there are more than 10,000 and total stopped counting' })
  total_capped: boolean;

  @ApiProperty()
  limit: number;

  @ApiProperty()
  offset: number;

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  next_cursor: string | null;
}
