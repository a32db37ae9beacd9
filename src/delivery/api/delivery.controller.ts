import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AppError } from '../../common/app-error';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { Roles } from '../../common/roles.decorator';
import { UuidParamPipe } from '../../common/uuid-param.pipe';
import { EventsService } from '../../events/events.service';
import { WebhooksService } from '../../webhooks/webhooks.service';
import {
  AttemptDetailDto,
  AttemptPageDto,
  AttemptsQueryDto,
  RecentAttemptsQueryDto,
  RecoverDto,
  RecoverResultDto,
  RedeliverResultDto,
  ReplayMissingDto,
  ReplayMissingResultDto,
  RetryFailedDto,
  RetryFailedResultDto,
  DEFAULT_BULK_LIMIT,
  StatsDto,
  StatsQueryDto,
  TestResultDto,
  TypeCountDto,
} from './delivery.dto';
import { DeliveryService } from '../delivery.service';
import { buildEventBody } from '../sending/event-body';
import { presentAttempt } from './attempt.presenter';
import { maskRecordedHeaders } from '../sending/recorded-headers';
import { AttemptPage, AttemptLogService } from './attempt-log.service';
import { StatsService, WebhookStats } from './stats.service';
import { Status } from '../attempt-status';

/** The longest time range replay-missing and the bulk retry take. */
export const MAX_RANGE_DAYS = 31;

/** [since, until) checked: real dates, since not in the future and before until, at most MAX_RANGE_DAYS long; until defaults to now. */
function checkedRange(since: Date, until: Date | undefined): { since: Date; until: Date } {
  const now = new Date();
  if (since.getTime() > now.getTime()) throw new AppError('VALIDATION_FAILED', 'since must not be in the future');
  const end = until ?? now;
  if (end.getTime() <= since.getTime()) throw new AppError('VALIDATION_FAILED', 'since must be earlier than until');
  if (end.getTime() - since.getTime() > MAX_RANGE_DAYS * 86_400_000) {
    throw new AppError('VALIDATION_FAILED', `the range from since to until may span at most ${MAX_RANGE_DAYS} days; split it into several calls`);
  }
  return { since, until: end };
}

/** The delivery routes under /api/webhooks: test, logs, stats, redeliver, recover, replay-missing, the bulk retry. */
@ApiTags('Webhooks')
@ApiBearerAuth()
@ApiExtraModels(TypeCountDto)
@ApiResponse({ status: 401, description: 'Missing or invalid token', type: ErrorResponseDto })
@Controller('webhooks')
export class DeliveryController {
  constructor(
    private readonly delivery: DeliveryService,
    private readonly logs: AttemptLogService,
    private readonly stats: StatsService,
    private readonly webhooks: WebhooksService,
    private readonly events: EventsService,
  ) {}

  @Get('logs/recent')
  @ApiOperation({ summary: 'Attempts across all webhooks in the last `hours` (default 24), newest first' })
  @ApiResponse({ status: 200, type: AttemptPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  async recent(@Query() q: RecentAttemptsQueryDto): Promise<AttemptPage> {
    const since = new Date(Date.now() - q.hours * 3_600_000);
    return this.logs.list({ ...this.filters(q), since: q.since && q.since > since ? q.since : since });
  }

  @Post('logs/retry-failed')
  @HttpCode(202)
  @Roles('admin')
  @ApiOperation({
    summary: 'Bulk retry across webhooks: queue a new attempt for every failed attempt in a time range',
    description:
      'For an operator cleaning up after an outage: every (webhook, event) with a failed attempt created in [since, until), optionally of one event type, at an enabled webhook, gets one new attempt (trigger "retry", sent once), unless that event has succeeded at that webhook since or an attempt is queued. Calling it again queues nothing new for what was queued. At most `limit` per call.',
  })
  @ApiResponse({ status: 202, type: RetryFailedResultDto })
  @ApiResponse({ status: 400, description: 'Bad dates, since after until, range longer than 31 days, unknown event_type', type: ErrorResponseDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto })
  async retryFailed(@Body() body: RetryFailedDto): Promise<RetryFailedResultDto> {
    const { since, until } = checkedRange(body.since, body.until);
    return this.delivery.retryFailed(since, until, body.event_type ?? null, body.limit ?? DEFAULT_BULK_LIMIT);
  }

  @Get(':id/logs')
  @ApiOperation({ summary: "A webhook's attempts, newest first" })
  @ApiResponse({ status: 200, type: AttemptPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async list(@Param('id', new UuidParamPipe('id')) id: string, @Query() q: AttemptsQueryDto): Promise<AttemptPage> {
    await this.webhooks.getOrFail(id);
    return this.logs.list({ ...this.filters(q), webhookId: id, since: q.since });
  }

  @Get(':id/logs/:logId')
  @ApiOperation({ summary: 'One attempt with its request and (truncated) response' })
  @ApiResponse({ status: 200, type: AttemptDetailDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async detail(@Param('id', new UuidParamPipe('id')) id: string, @Param('logId', new UuidParamPipe('log_id')) logId: string): Promise<AttemptDetailDto> {
    await this.webhooks.getOrFail(id);
    const row = await this.logs.findOne(id, logId);
    if (!row) throw new AppError('LOG_NOT_FOUND', `No attempt ${logId} for webhook ${id}`);
    const event = (await this.events.bodiesFor([row.event_id])).get(row.event_id);
    return {
      ...presentAttempt(row),
      request_headers: row.request_headers ? maskRecordedHeaders(row.request_headers) : null,
      request_body: event ? buildEventBody(row.event_id, event.type, event.createdAt, event.payloadText) : null,
      response_headers: row.response_headers ?? null,
      response_body: row.response_body ?? null,
    } as AttemptDetailDto;
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Delivery statistics of a webhook over the last `hours` (default 24), plus its queue' })
  @ApiResponse({ status: 200, type: StatsDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async webhookStats(@Param('id', new UuidParamPipe('id')) id: string, @Query() q: StatsQueryDto): Promise<WebhookStats> {
    return this.stats.forWebhook(await this.webhooks.getOrFail(id), q.hours);
  }

  @Post(':id/test')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Send a webhook.test event to this endpoint now (also when disabled) and wait for the result' })
  @ApiResponse({ status: 200, type: TestResultDto, description: 'The attempt was made; `success` says how it went' })
  @ApiResponse({ status: 400, description: 'id is not a UUID', type: ErrorResponseDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async test(@Param('id', new UuidParamPipe('id')) id: string): Promise<TestResultDto> {
    return this.delivery.sendTest(id);
  }

  @Post(':id/logs/:logId/redeliver')
  @HttpCode(202)
  @Roles('admin')
  @ApiOperation({ summary: "Send that attempt's event again now, as one new attempt (not retried if it fails)" })
  @ApiResponse({ status: 202, type: RedeliverResultDto })
  @ApiResponse({ status: 400, description: 'id or log_id is not a UUID', type: ErrorResponseDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async redeliver(@Param('id', new UuidParamPipe('id')) id: string, @Param('logId', new UuidParamPipe('log_id')) logId: string): Promise<RedeliverResultDto> {
    const a = await this.delivery.redeliver(id, logId);
    return { log_id: a.id, attempt: a.attempt, status: Status.Sending };
  }

  @Post(':id/recover')
  @HttpCode(202)
  @Roles('admin')
  @ApiOperation({ summary: 'Queue a new attempt for every event since `since` that was never delivered to this webhook' })
  @ApiResponse({ status: 202, type: RecoverResultDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async recover(@Param('id', new UuidParamPipe('id')) id: string, @Body() body: RecoverDto): Promise<RecoverResultDto> {
    if (body.since.getTime() > Date.now()) throw new AppError('VALIDATION_FAILED', 'since must not be in the future');
    return this.delivery.recover(id, body.since);
  }

  @Post(':id/replay-missing')
  @HttpCode(202)
  @Roles('admin')
  @ApiOperation({
    summary: 'Queue every event since `since` that this webhook never got',
    description:
      'Every event recorded in [since, until) that its subscriptions and payload filter select and that has no attempt at this webhook (recorded while it was disabled, before it subscribed, or filtered out at the time) gets one attempt (trigger "replay", sent once), oldest first, at most `limit`. A second call queues nothing for what was queued. When `more` is true, call again with since = next_since.',
  })
  @ApiResponse({ status: 202, type: ReplayMissingResultDto })
  @ApiResponse({ status: 400, description: 'Bad dates, since after until, range longer than 31 days', type: ErrorResponseDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  @ApiResponse({ status: 409, description: 'The webhook is disabled', type: ErrorResponseDto })
  async replayMissing(@Param('id', new UuidParamPipe('id')) id: string, @Body() body: ReplayMissingDto): Promise<ReplayMissingResultDto> {
    const { since, until } = checkedRange(body.since, body.until);
    return this.delivery.replayMissing(id, since, until, body.limit ?? DEFAULT_BULK_LIMIT);
  }

  private filters(q: AttemptsQueryDto) {
    return { success: q.success, status: q.status, eventType: q.event_type, until: q.until, limit: q.limit, offset: q.offset };
  }
}
