import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AppError } from '../../common/app-error';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { UuidParamPipe } from '../../common/uuid-param.pipe';
import { EventsService } from '../../events/events.service';
import { AttemptLogService } from './attempt-log.service';

/** `GET /api/events/{id}`: the event with its attempts per webhook (delivery knows the attempts). */
@ApiTags('Events')
@ApiBearerAuth()
@Controller('events')
export class EventDetailController {
  constructor(
    private readonly events: EventsService,
    private readonly logs: AttemptLogService,
  ) {}

  @Get(':id')
  @ApiOperation({ summary: 'One event with its delivery attempts, grouped by webhook' })
  @ApiResponse({ status: 200, description: 'The event and `deliveries: [{webhook_id, attempts: [...]}]`' })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async detail(@Param('id', new UuidParamPipe('id')) id: string) {
    const event = await this.events.findById(id);
    if (!event) throw new AppError('EVENT_NOT_FOUND', `No event with id ${id}`);
    const attempts = await this.logs.forEvent(id);
    const byWebhook = new Map<string, typeof attempts>();
    for (const a of attempts) byWebhook.set(a.webhook_id, [...(byWebhook.get(a.webhook_id) ?? []), a]);
    return { ...event, deliveries: [...byWebhook].map(([webhook_id, list]) => ({ webhook_id, attempts: list })) };
  }
}
