import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AppError } from '../../common/app-error';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { isUuid } from '../../common/uuid';
import { UuidParamPipe } from '../../common/uuid-param.pipe';
import { WebhooksService } from '../../webhooks/webhooks.service';
import { EventDeliverySummaryDto, EventSummaryQueryDto, OverviewDto, OverviewQueryDto, TimeseriesQueryDto, TimeSeriesDto } from './delivery.dto';
import { BUCKETS, EventDeliverySummary, MAX_BUCKETS, Overview, TimeSeries, TimeseriesService } from './timeseries.service';

function checkBucketCount(q: TimeseriesQueryDto): void {
  const n = Math.ceil((q.hours * 3600) / BUCKETS[q.bucket]);
  if (n > MAX_BUCKETS)
    throw new AppError('VALIDATION_FAILED', `${q.hours} hours in ${q.bucket} buckets is ${n} buckets; at most ${MAX_BUCKETS}: choose a wider bucket`);
}

/**
 * Aggregates for dashboards (the web console uses them; any client may):
 * time series per webhook and overall, the overview, per-event delivery counts.
 * Registered before the other delivery controllers, so that `stats/…` and
 * `delivery-summary` are not taken for ids.
 */
@ApiTags('Webhooks')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or invalid token', type: ErrorResponseDto })
@Controller()
export class TimeseriesController {
  constructor(
    private readonly timeseries: TimeseriesService,
    private readonly webhooks: WebhooksService,
  ) {}

  @Get('webhooks/stats/timeseries')
  @ApiOperation({
    summary: 'Attempts over time across all webhooks: counts by outcome and p50/p95 latency per bucket',
    description:
      'Buckets (1h, 6h or 1d) by the time the attempt was created; `retrying` counts attempts still queued or in flight. Built from hourly rollups: ' +
      'what has been over for 5 minutes (whole hours, and the beginning of the hour under way) is reused by each instance for 1-2 minutes, ' +
      'the last 5-10 minutes are read every time; percentiles within about 5 %.',
  })
  @ApiResponse({ status: 200, type: TimeSeriesDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  async overall(@Query() q: TimeseriesQueryDto): Promise<TimeSeries> {
    checkBucketCount(q);
    if (BUCKETS[q.bucket] < 3600) throw new AppError('VALIDATION_FAILED', 'bucket must be 1h, 6h or 1d for the series over all webhooks');
    return this.timeseries.overall(q.hours, q.bucket);
  }

  @Get('webhooks/stats/overview')
  @ApiOperation({ summary: 'Totals, success rate and p95 latency over the last `hours`, the queue now, and the webhooks failing or disabled' })
  @ApiResponse({ status: 200, type: OverviewDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  async overview(@Query() q: OverviewQueryDto): Promise<Overview> {
    return this.timeseries.overview(q.hours);
  }

  @Get('webhooks/:id/stats/timeseries')
  @ApiOperation({
    summary: "A webhook's attempts over time: counts by outcome and p50/p95 latency per bucket",
    description:
      'Buckets by the time the attempt was created; `retrying` counts attempts still queued or in flight; percentiles exact. ' +
      'The 5-minute pieces of the window that have been over for 5 minutes are reused by each instance for 1-2 minutes (shared with the stats route).',
  })
  @ApiResponse({ status: 200, type: TimeSeriesDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async forWebhook(@Param('id', new UuidParamPipe('id')) id: string, @Query() q: TimeseriesQueryDto): Promise<TimeSeries> {
    checkBucketCount(q);
    await this.webhooks.getOrFail(id);
    return this.timeseries.forWebhook(id, q.hours, q.bucket);
  }

  @Get('events/delivery-summary')
  @ApiTags('Events')
  @ApiOperation({ summary: 'For each given event: how many webhooks got it, and how many of them it was delivered to' })
  @ApiResponse({ status: 200, type: [EventDeliverySummaryDto] })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  async eventSummary(@Query() q: EventSummaryQueryDto): Promise<EventDeliverySummary[]> {
    const ids = q.ids
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    if (ids.length > 100) throw new AppError('VALIDATION_FAILED', 'ids: at most 100 event ids');
    const bad = ids.find((id) => !isUuid(id));
    if (bad) throw new AppError('INVALID_ID', `ids must be UUIDs, got "${bad.slice(0, 64)}"`);
    return this.timeseries.eventSummaries(ids);
  }
}
