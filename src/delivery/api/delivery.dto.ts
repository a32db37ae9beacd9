import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsDate, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { PageOf } from '../../common/page.dto';
import { ATTEMPT_STATUSES } from '../attempt-status';
import { ATTEMPT_TRIGGERS } from '../attempt.entity';
import { PageQueryDto } from '../../common/page-query.dto';

const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const toDate = ({ value }: { value: unknown }) => {
  const ymd = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})/.exec(value) : null;
  if (!ymd) return value;
  // Date() rolls impossible days over (2026-02-30 → March 2): leave them to fail validation
  const [year, month, day] = [Number(ymd[1]), Number(ymd[2]), Number(ymd[3])];
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return value;
  const d = new Date(value as string);
  return Number.isNaN(d.getTime()) ? value : d;
};

export class AttemptsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only successful (true) or unsuccessful (false) attempts' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'success must be true or false' })
  success?: boolean;

  @ApiPropertyOptional({ enum: ATTEMPT_STATUSES })
  @IsOptional()
  @IsIn(ATTEMPT_STATUSES, { message: `status must be one of ${ATTEMPT_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ example: 'service.started' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  event_type?: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time: attempts created at or after it', example: '2026-11-28T00:00:00Z' })
  @IsOptional()
  @Transform(toDate)
  @IsDate({ message: 'since must be an ISO 8601 date-time' })
  since?: Date;

  @ApiPropertyOptional({ description: 'ISO 8601 time: attempts created before it' })
  @IsOptional()
  @Transform(toDate)
  @IsDate({ message: 'until must be an ISO 8601 date-time' })
  until?: Date;
}

export class RecentAttemptsQueryDto extends AttemptsQueryDto {
  @ApiPropertyOptional({ default: 24, minimum: 1, maximum: 8760 })
  @Type(() => Number)
  @IsInt({ message: 'hours must be a whole number' })
  @Min(1)
  @Max(8760)
  hours: number = 24;
}

export class StatsQueryDto {
  @ApiPropertyOptional({ default: 24, minimum: 1, maximum: 8760, description: 'Window of the attempt counts' })
  @Type(() => Number)
  @IsInt({ message: 'hours must be a whole number' })
  @Min(1)
  @Max(8760)
  hours: number = 24;
}

export class RecoverDto {
  @ApiProperty({ description: 'Re-send every event delivered since this ISO 8601 time that never succeeded', example: '2026-11-27T00:00:00Z' })
  @Transform(toDate)
  @IsDate({ message: 'since must be an ISO 8601 date-time' })
  since: Date;
}

const Since = (what: string) =>
  applyDecorators(
    ApiProperty({ description: what, example: '2026-11-27T00:00:00Z' }),
    Transform(toDate),
    IsDate({ message: 'since must be an ISO 8601 date-time' }),
  );
const Until = (what: string) =>
  applyDecorators(
    ApiPropertyOptional({ description: what, example: '2026-11-28T00:00:00Z' }),
    IsOptional(),
    Transform(toDate),
    IsDate({ message: 'until must be an ISO 8601 date-time' }),
  );
const Limit = () =>
  applyDecorators(
    ApiPropertyOptional({ default: DEFAULT_BULK_LIMIT, minimum: 1, maximum: MAX_BULK_LIMIT, description: 'Most attempts this call queues' }),
    IsOptional(),
    IsInt({ message: 'limit must be a whole number' }),
    Min(1, { message: 'limit must be at least 1' }),
    Max(MAX_BULK_LIMIT, { message: `limit must be at most ${MAX_BULK_LIMIT}` }),
  );

export const DEFAULT_BULK_LIMIT = 1000;
export const MAX_BULK_LIMIT = 10_000;

export class ReplayMissingDto {
  @Since('Replay events recorded at or after this ISO 8601 time (inclusive)')
  since: Date;

  @Until('... and before this time (exclusive); default now. The range may span at most 31 days.')
  until?: Date;

  @Limit()
  limit?: number;
}

export class ReplayMissingResultDto {
  @ApiProperty({ description: 'Attempts queued (trigger "replay"), one per missed event' }) queued: number;
  @ApiProperty({ description: 'true: the call stopped at `limit` (or after scanning 100,000 events); call again with since = next_since' })
  more: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Where to continue when `more` is true' }) next_since: string | null;
  @ApiProperty() limit: number;
  @ApiProperty() since: string;
  @ApiProperty() until: string;
}

export class RetryFailedDto {
  @Since('Retry attempts that failed (created) at or after this ISO 8601 time (inclusive)')
  since: Date;

  @Until('... and before this time (exclusive); default now. The range may span at most 31 days.')
  until?: Date;

  @ApiPropertyOptional({ example: 'service.started', description: 'Only attempts of events of this type' })
  @IsOptional()
  @IsString({ message: 'event_type must be an event type' })
  event_type?: string;

  @Limit()
  limit?: number;
}

export class RetryFailedResultDto {
  @ApiProperty({ description: 'Attempts queued (trigger "retry"): one per (webhook, event) whose attempts all failed' }) queued: number;
  @ApiProperty({ description: 'true: the call stopped at `limit`; call again to queue the rest' }) more: boolean;
  @ApiProperty() limit: number;
  @ApiProperty() since: string;
  @ApiProperty() until: string;
}

export class AttemptDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) webhook_id: string;
  @ApiProperty({ format: 'uuid' }) event_id: string;
  @ApiProperty() event_type: string;
  @ApiProperty({ description: '1 for the first attempt of an event at this webhook' }) attempt: number;
  @ApiProperty({ enum: ATTEMPT_TRIGGERS, description: 'replay: replay-missing; retry: the bulk retry of failed attempts' }) trigger: string;
  @ApiProperty({ enum: ATTEMPT_STATUSES }) status: string;
  @ApiProperty({ nullable: true, type: Boolean, description: 'null while the attempt is queued or in flight' }) success: boolean | null;
  @ApiProperty({ nullable: true, type: Number }) status_code: number | null;
  @ApiProperty({ nullable: true, type: Number }) duration_ms: number | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty() scheduled_at: string;
  @ApiProperty({ nullable: true, type: String }) next_retry_at: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) started_at: string | null;
  @ApiProperty({ nullable: true, type: String }) finished_at: string | null;
}

export class AttemptDetailDto extends AttemptDto {
  @ApiProperty({ nullable: true, type: Object, description: 'Headers sent (signatures included)' }) request_headers: Record<string, string> | null;
  @ApiProperty({ description: 'The exact body sent (signed bytes)' }) request_body: string | null;
  @ApiProperty({ nullable: true, type: Object }) response_headers: Record<string, string> | null;
  @ApiProperty({ nullable: true, type: String, description: 'Truncated to WEBHOOK_RESPONSE_BODY_LIMIT bytes' }) response_body: string | null;
}

/** `total` counts up to 10000 matching attempts. */
export class AttemptPageDto extends PageOf(AttemptDto) {
  @ApiProperty({ description: 'true when there are more than 10000 and total stopped counting' }) total_capped: boolean;
}

export class TestResultDto {
  @ApiProperty() success: boolean;
  @ApiProperty({ nullable: true, type: Number }) status_code: number | null;
  @ApiProperty() duration_ms: number;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ nullable: true, type: String }) response_body: string | null;
  @ApiProperty({ format: 'uuid', description: 'The attempt in the logs' }) log_id: string;
}

export class RedeliverResultDto {
  @ApiProperty({ format: 'uuid' }) log_id: string;
  @ApiProperty() attempt: number;
  @ApiProperty({ example: 'sending' }) status: string;
}

export class RecoverResultDto {
  @ApiProperty({ description: 'Attempts queued' }) queued: number;
  @ApiProperty({ description: 'Most attempts one call queues' }) limit: number;
  @ApiProperty() since: string;
}

class QueueDto {
  @ApiProperty() pending: number;
  @ApiProperty() due: number;
  @ApiProperty() sending: number;
  @ApiProperty({ nullable: true, type: String }) oldest_due_at: string | null;
  @ApiProperty({ description: 'How far behind the endpoint is: seconds since the oldest due attempt became due (0: nothing waiting)' })
  behind_seconds: number;
}

class TypeCountDto {
  @ApiProperty() total: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
}

export class StatsDto {
  @ApiProperty({ format: 'uuid' }) webhook_id: string;
  @ApiProperty() window_hours: number;
  @ApiProperty() since: string;
  @ApiProperty({ description: 'Finished attempts in the window' }) total_attempts: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() cancelled: number;
  @ApiProperty({ nullable: true, type: Number, description: 'succeeded / (succeeded + failed)' }) success_rate: number | null;
  @ApiProperty({ description: 'Distinct events delivered successfully' }) events_delivered: number;
  @ApiProperty({ description: 'Distinct events waiting for a retry' }) events_pending_retry: number;
  @ApiProperty({ nullable: true, type: Number }) avg_duration_ms: number | null;
  @ApiProperty({ nullable: true, type: Number }) p95_duration_ms: number | null;
  @ApiProperty({ type: QueueDto, description: "This webhook's queue right now" }) queue: QueueDto;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/TypeCountDto' } }) by_event_type: Record<string, TypeCountDto>;
  @ApiProperty({ nullable: true, type: String }) last_triggered_at: string | null;
  @ApiProperty({ nullable: true, type: String }) last_success_at: string | null;
  @ApiProperty({ nullable: true, type: String }) last_failure_at: string | null;
  @ApiProperty() consecutive_failures: number;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ nullable: true, type: String }) disabled_reason: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Most deliveries per second (null: no limit)' }) rate_limit: number | null;
  @ApiProperty({ enum: ['none', 'fifo'] }) ordering: string;
}

export { TypeCountDto };

// ---- console reads: time series, overview, per-event delivery counts (timeseries.controller.ts) ----

export const TIMESERIES_BUCKETS = ['1m', '5m', '15m', '1h', '6h', '1d'] as const;

export class TimeseriesQueryDto {
  @ApiPropertyOptional({ default: 24, minimum: 1, maximum: 720, description: 'Window: the last `hours` hours' })
  @Type(() => Number)
  @IsInt({ message: 'hours must be a whole number' })
  @Min(1, { message: 'hours must be at least 1' })
  @Max(720, { message: 'hours must be at most 720' })
  hours: number = 24;

  @ApiPropertyOptional({ enum: TIMESERIES_BUCKETS, default: '1h', description: 'Bucket width; at most 500 buckets per answer' })
  @IsOptional()
  @IsIn(TIMESERIES_BUCKETS, { message: `bucket must be one of ${TIMESERIES_BUCKETS.join(', ')}` })
  bucket: (typeof TIMESERIES_BUCKETS)[number] = '1h';
}

export class OverviewQueryDto {
  @ApiPropertyOptional({ default: 24, minimum: 1, maximum: 720 })
  @Type(() => Number)
  @IsInt({ message: 'hours must be a whole number' })
  @Min(1, { message: 'hours must be at least 1' })
  @Max(720, { message: 'hours must be at most 720' })
  hours: number = 24;
}

export class EventSummaryQueryDto {
  @ApiProperty({ description: 'Comma-separated event ids (at most 100)', example: '0b7c…,5e1a…' })
  @IsString({ message: 'ids must be a comma-separated list of event ids' })
  @MaxLength(3800, { message: 'ids: at most 100 event ids' })
  ids: string;
}

export class TimeBucketDto {
  @ApiProperty({ description: 'Start of the bucket (ISO 8601)' }) start: string;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() cancelled: number;
  @ApiProperty({ description: 'Attempts queued or in flight (scheduled retries, first attempts not sent yet)' }) retrying: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Median duration of the finished attempts' }) p50_ms: number | null;
  @ApiProperty({ nullable: true, type: Number }) p95_ms: number | null;
}

class SeriesTotalsDto {
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() cancelled: number;
  @ApiProperty() retrying: number;
  @ApiProperty({ nullable: true, type: Number, description: 'succeeded / (succeeded + failed)' }) success_rate: number | null;
}

export class TimeSeriesDto {
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'null for the series over all webhooks' }) webhook_id: string | null;
  @ApiProperty() hours: number;
  @ApiProperty({ enum: TIMESERIES_BUCKETS }) bucket: string;
  @ApiProperty() bucket_seconds: number;
  @ApiProperty({ description: 'Start of the first bucket (aligned to the bucket width)' }) since: string;
  @ApiProperty() until: string;
  @ApiProperty({ type: SeriesTotalsDto }) totals: SeriesTotalsDto;
  @ApiProperty({ type: [TimeBucketDto], description: 'Every bucket of the window, oldest first; empty ones as zeros' }) buckets: TimeBucketDto[];
}

class OverviewTotalsDto extends SeriesTotalsDto {
  @ApiProperty({ nullable: true, type: Number, description: 'p95 duration of the finished attempts in the window' }) p95_ms: number | null;
}

class OverviewQueueDto {
  @ApiProperty() pending: number;
  @ApiProperty() due: number;
  @ApiProperty() sending: number;
  @ApiProperty({ nullable: true, type: String }) oldest_due_at: string | null;
  @ApiProperty({ description: 'Delivery lag: age of the oldest due attempt (0 when none is due)' }) oldest_due_age_seconds: number;
}

class OverviewWebhooksDto {
  @ApiProperty() total: number;
  @ApiProperty() enabled: number;
  @ApiProperty() disabled: number;
  @ApiProperty({ description: 'Enabled, and the last attempt failed' }) failing: number;
}

class AttentionWebhookDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() url: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ nullable: true, type: String }) disabled_reason: string | null;
  @ApiProperty({ nullable: true, type: String }) last_error: string | null;
  @ApiProperty() consecutive_failures: number;
  @ApiProperty({ nullable: true, type: String }) failing_since: string | null;
  @ApiProperty({ nullable: true, type: String }) last_failure_at: string | null;
}

export class OverviewDto {
  @ApiProperty() hours: number;
  @ApiProperty() since: string;
  @ApiProperty({ type: OverviewTotalsDto }) totals: OverviewTotalsDto;
  @ApiProperty({ type: OverviewQueueDto }) queue: OverviewQueueDto;
  @ApiProperty({ type: OverviewWebhooksDto }) webhooks: OverviewWebhooksDto;
  @ApiProperty({ type: [AttentionWebhookDto], description: 'Disabled webhooks and failing ones (up to 20), disabled first' })
  attention: AttentionWebhookDto[];
}

export class EventDeliverySummaryDto {
  @ApiProperty({ format: 'uuid' }) event_id: string;
  @ApiProperty({ description: 'Webhooks that got at least one attempt' }) webhooks: number;
  @ApiProperty({ description: 'Webhooks it was delivered to' }) succeeded: number;
  @ApiProperty({ description: 'Webhooks with no success and nothing queued' }) failed: number;
  @ApiProperty({ description: 'Webhooks with no success yet and an attempt queued' }) pending: number;
  @ApiProperty() attempts: number;
}
