import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Public } from '../common/public.decorator';
import { MetricsAccessGuard } from './metrics-access.guard';
import { MetricsService } from './metrics.service';

/** `GET /metrics` (outside the /api prefix, see app.factory.ts): Prometheus text format. */
@ApiTags('Metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Public() // not a JWT route: MetricsAccessGuard decides
  @UseGuards(MetricsAccessGuard)
  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics (text format)',
    description:
      'Served without a token to clients in `METRICS_ALLOWED_NETWORKS` (default: loopback); from anywhere else it needs ' +
      '`Authorization: Bearer <METRICS_TOKEN>` (not a login token). Not under `/api`.',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Metrics in the Prometheus text exposition format 0.0.4' })
  @ApiResponse({ status: 401, description: 'Not in METRICS_ALLOWED_NETWORKS and no (or a wrong) METRICS_TOKEN', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Not in METRICS_ALLOWED_NETWORKS and no METRICS_TOKEN is configured', type: ErrorResponseDto })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
