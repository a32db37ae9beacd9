import { Controller, Get, Header, HttpStatus, Logger, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/public.decorator';
import { DatabaseHealthIndicator } from './database.health';

class HealthDto {
  @ApiProperty({ enum: ['ok', 'error'] })
  status: 'ok' | 'error';

  @ApiProperty({ enum: ['up', 'down'] })
  database: 'up' | 'down';

  @ApiProperty({ description: 'Seconds since this instance started' })
  uptime_s: number;
}

@ApiTags('Health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');
  private lastUp: boolean | undefined;

  constructor(
    private readonly checks: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
  ) {}

  @Public()
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness and database state (no token needed)' })
  @ApiResponse({ status: 200, type: HealthDto })
  @ApiResponse({ status: 503, description: 'The database is unreachable', type: HealthDto })
  async health(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthDto> {
    const result = await this.run();
    const up = result.status === 'ok';
    this.noteChange(up, result);
    void res.status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: up ? 'ok' : 'error', database: result.details.database?.status === 'up' ? 'up' : 'down', uptime_s: Math.round(process.uptime()) };
  }

  /** terminus answers a failed check by throwing a 503 that carries the result; we shape the body ourselves. */
  private async run(): Promise<HealthCheckResult> {
    try {
      return await this.checks.check([() => this.database.ping('database')]);
    } catch (err) {
      if (err instanceof ServiceUnavailableException) return err.getResponse() as HealthCheckResult;
      throw err;
    }
  }

  private noteChange(up: boolean, result: HealthCheckResult): void {
    if (up === this.lastUp) return;
    if (up) {
      if (this.lastUp === false) this.logger.log('Health: the database answers again');
    } else {
      const reason = (result.details.database as { message?: string } | undefined)?.message ?? 'no answer';
      this.logger.warn(`Health: the database is down (${reason})`);
    }
    this.lastUp = up;
  }
}
