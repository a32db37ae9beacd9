import { Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AppError } from '../common/app-error';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Roles } from '../common/roles.decorator';
import { parseEmitBody } from './emit-body';
import { describeCatalogue, isEventType, isOperationalType, listEventTypes, TEST_EVENT_TYPE } from './event-catalogue';
import { EmitEventDto, EmittedEventDto, EventListDto, EventListQueryDto, EventTypeDto } from './events.dto';
import { EventsService } from './events.service';

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

  @Get('types')
  @ApiOperation({ summary: 'The event catalogue: every type, its category and description' })
  @ApiResponse({ status: 200, type: [EventTypeDto] })
  types(): EventTypeDto[] {
    return describeCatalogue();
  }

  @Post()
  @Roles('admin')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Emit an event',
    description:
      'Stores the event and delivers it to every enabled webhook subscribed to its type. Accepted (202) means stored durably; delivery follows asynchronously.',
  })
  @ApiResponse({ status: 202, description: 'Stored; delivery follows', type: EmittedEventDto })
  @ApiResponse({
    status: 400,
    description: 'Unknown or reserved type (webhook.test and the operational webhook.* events), or data not a JSON object',
    type: ErrorResponseDto,
  })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 413, description: 'data larger than WEBHOOK_MAX_PAYLOAD_BYTES', type: ErrorResponseDto })
  @ApiBody({ type: EmitEventDto })
  // The raw body, not @Body(): see parseEmitBody.
  async emit(@Req() req: Request): Promise<EmittedEventDto> {
    const body = parseEmitBody(req.body);
    if (body.type === TEST_EVENT_TYPE) {
      throw new AppError('VALIDATION_FAILED', `${TEST_EVENT_TYPE} is reserved for POST /api/webhooks/{id}/test`);
    }
    if (isOperationalType(body.type)) {
      throw new AppError('VALIDATION_FAILED', `${body.type} is an operational event: only the service raises it, about its own deliveries`);
    }
    const event = await this.events.emit(body.type, body.data);
    return { id: event.id, type: event.type };
  }

  @Get()
  @ApiOperation({
    summary: 'List events, newest first',
    description: 'Filter by `type` and a created-at window (ISO 8601): `since` inclusive, `until` exclusive.',
  })
  @ApiResponse({ status: 200, type: EventListDto })
  @ApiResponse({ status: 400, description: 'Bad filter or paging value', type: ErrorResponseDto })
  async list(@Query() query: EventListQueryDto): Promise<EventListDto> {
    if (query.type !== undefined && !isEventType(query.type)) {
      throw new AppError('UNKNOWN_EVENT_TYPE', `Unknown event type "${query.type.slice(0, 100)}"; valid types: ${listEventTypes()}`);
    }
    const since = parseTimestamp('since', query.since);
    const until = parseTimestamp('until', query.until);
    if (since && until && since > until) throw new AppError('VALIDATION_FAILED', 'since must not be later than until');
    const { items, total } = await this.events.list({ type: query.type, since, until, limit: query.limit, offset: query.offset });
    return { items, total, limit: query.limit, offset: query.offset };
  }
}
