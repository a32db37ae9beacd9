import { Controller, Get, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../common/app-error';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Roles } from '../common/roles.decorator';
import { createValidationPipe } from '../common/validation';
import { decodeCursor, splitDataFilters } from './event-search';
import { parseEmitBody } from './emit-body';
import { isOperationalType, TEST_EVENT_TYPE } from './event-catalogue';
import { EmitEventDto, EmittedEventDto, EventListDto, EventListQueryDto } from './events.dto';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import { EventsService } from './events.service';
import { parseIdempotencyKey, REPLAYED_HEADER } from './idempotency';

function parseTimestamp(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new AppError('VALIDATION_FAILED', `${name} must be an ISO 8601 timestamp`);
  return date;
}

// `GET /api/events/{id}` (with its delivery attempts) lives in the delivery module.
@ApiTags('Events')
@ApiBearerAuth()
@Controller('events')
@ApiResponse({ status: 401, description: 'Missing or invalid token', type: ErrorResponseDto })
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @Roles('admin')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Emit an event',
    description:
      'Stores the event and delivers it to every enabled webhook subscribed to its type. Accepted (202) means stored durably; delivery follows asynchronously. ' +
      'With an `Idempotency-Key` header (or your own event `id`), a repeat of the same request within EVENT_IDEMPOTENCY_TTL_MS (default 24 h) returns the first event ' +
      '(200, `replayed: true`, header `Idempotent-Replayed: true`) and stores and sends nothing, even when the repeats race on several instances; ' +
      'the same key or id with another type or data is a 409.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: '1–255 printable ASCII characters, unique per logical event (e.g. a UUID). Remembered for EVENT_IDEMPOTENCY_TTL_MS.',
  })
  @ApiResponse({ status: 202, description: 'Stored; delivery follows', type: EmittedEventDto })
  @ApiResponse({
    status: 200,
    description: 'A replay: the event stored by the first request with this Idempotency-Key or id (header `Idempotent-Replayed: true`)',
    type: EmittedEventDto,
  })
  @ApiResponse({
    status: 400,
    description: 'Unknown or reserved type (webhook.test and the operational webhook.* events), data not a JSON object, bad id or Idempotency-Key',
    type: ErrorResponseDto,
  })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 409, description: 'The Idempotency-Key or id was used for a different request (IDEMPOTENCY_CONFLICT)', type: ErrorResponseDto })
  @ApiResponse({ status: 413, description: 'data larger than WEBHOOK_MAX_PAYLOAD_BYTES', type: ErrorResponseDto })
  @ApiResponse({
    status: 422,
    description: 'The type is enforced and data does not match its schema: `details` lists each failing `{path, message, keyword}` (SCHEMA_VALIDATION_FAILED)',
    type: ErrorResponseDto,
  })
  @ApiBody({
    type: EmitEventDto,
    examples: Object.fromEntries(
      Object.entries(BUILTIN_SCHEMAS)
        .filter(([type]) => type !== TEST_EVENT_TYPE && !isOperationalType(type))
        .map(([type, { example }]) => [type, { value: { type, data: example } }]),
    ),
  })
  // The raw body, not @Body(): see parseEmitBody.
  async emit(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
    @Headers('idempotency-key') rawKey: string | undefined,
  ): Promise<EmittedEventDto> {
    const body = parseEmitBody(req.body);
    if (body.type === TEST_EVENT_TYPE) {
      throw new AppError('VALIDATION_FAILED', `${TEST_EVENT_TYPE} is reserved for POST /api/webhooks/{id}/test`);
    }
    if (isOperationalType(body.type)) {
      throw new AppError('VALIDATION_FAILED', `${body.type} is an operational event: only the service raises it, about its own deliveries`);
    }
    const idempotencyKey = parseIdempotencyKey(rawKey);
    const event = await this.events.emit(body.type, body.data, { idempotencyKey, id: body.id });
    const out: EmittedEventDto = { id: event.id, type: event.type };
    if (event.deprecated) {
      void res.header('Deprecation', 'true');
      out.deprecated = true;
    }
    if (event.replayed) {
      void res.status(200).header(REPLAYED_HEADER, 'true');
      out.replayed = true;
    }
    return out;
  }

  @Get()
  @ApiOperation({
    summary: 'Search events, newest first',
    description:
      'Filter by `type` or `category`, a created-at window (ISO 8601: `since` inclusive, `until` exclusive) and fields of the data: ' +
      '`data.<field>=<value>` (exact match; `data.a.b` for nested fields; a value that reads as a number, true, false or null also matches that JSON value; ' +
      'up to 5, all must match). Page with `cursor` (the `next_cursor` of the previous page; stays fast however deep) or `offset`. ' +
      '`total` is counted up to 10,000 (`total_capped`) on a first page without data filters; otherwise it is null.',
  })
  @ApiQuery({ type: EventListQueryDto })
  @ApiQuery({
    name: 'data.<field>',
    required: false,
    description: 'Exact match on a field of the event data, e.g. `data.service=nginx` or `data.domain=shop.example.com`',
    schema: { type: 'string' },
  })
  @ApiResponse({ status: 200, type: EventListDto })
  @ApiResponse({ status: 400, description: 'Bad filter, cursor or paging value', type: ErrorResponseDto })
  async list(@Req() req: FastifyRequest): Promise<EventListDto> {
    const { rest, filters } = splitDataFilters(req.query as Record<string, unknown>);
    const query = (await createValidationPipe().transform(rest, { type: 'query', metatype: EventListQueryDto, data: undefined })) as EventListQueryDto;
    const catalogue = await this.events.catalogue();
    let types: string[] | undefined;
    if (query.type !== undefined) {
      if (!catalogue.get(query.type)) {
        throw new AppError('UNKNOWN_EVENT_TYPE', `Unknown event type "${query.type.slice(0, 100)}"; valid types: ${catalogue.names()}`);
      }
      types = [query.type];
    }
    if (query.category !== undefined) {
      const inCategory = catalogue.entries.filter((e) => e.category === query.category).map((e) => e.type);
      if (inCategory.length === 0) {
        const categories = [...new Set(catalogue.entries.map((e) => e.category))].join(', ');
        throw new AppError('VALIDATION_FAILED', `Unknown category "${query.category.slice(0, 100)}"; valid categories: ${categories}`);
      }
      types = types ? types.filter((t) => inCategory.includes(t)) : inCategory;
      if (types.length === 0) throw new AppError('VALIDATION_FAILED', `type ${query.type} is not in category ${query.category}`);
    }
    const since = parseTimestamp('since', query.since);
    const until = parseTimestamp('until', query.until);
    if (since && until && since > until) throw new AppError('VALIDATION_FAILED', 'since must not be later than until');
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (cursor && query.offset > 0) throw new AppError('VALIDATION_FAILED', 'Use either cursor or offset, not both');
    const page = await this.events.list({
      types,
      since,
      until,
      data: filters,
      cursor,
      limit: query.limit,
      offset: query.offset,
      count: !cursor && filters.length === 0,
    });
    return { items: page.items, total: page.total, total_capped: page.totalCapped, limit: query.limit, offset: query.offset, next_cursor: page.nextCursor };
  }
}
