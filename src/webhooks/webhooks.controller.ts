import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Roles } from '../common/roles.decorator';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import {
  CreateWebhookDto,
  FilterTestDto,
  FilterTestResultDto,
  RotatedSecretDto,
  UpdateWebhookDto,
  WebhookDto,
  WebhookListDto,
  WebhookListQueryDto,
  WebhookSecretDto,
  WebhookWithSecretDto,
} from './webhook.dto';
import { presentWebhook, presentWebhookWithSecret } from './webhook.presenter';
import { WebhooksService } from './webhooks.service';
import { AppError } from '../common/app-error';
import { EventsService } from '../events/events.service';
import { compileFilter } from './payload-filter';

const idParam = new UuidParamPipe('id');

/**
 * The CRUD routes. The delivery routes under /api/webhooks (test, logs, stats,
 * logs/recent) live in the delivery module; nothing here may match two-segment
 * paths such as `logs/recent`.
 */
@ApiTags('Webhooks')
@ApiBearerAuth()
@Controller('webhooks')
@ApiResponse({ status: 401, description: 'Missing or invalid token', type: ErrorResponseDto })
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly events: EventsService,
  ) {}

  // Declared (and this module registered) before the delivery routes, so `filters/test` is not taken for `{id}/test`.
  @Post('filters/test')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Try a payload filter on sample event data',
    description:
      'Validates `filter` as create/update do (400 naming the path and the problem) and evaluates it on `payload`, the event data (paths "data.…"), with `type` as the event type (paths "event").',
  })
  @ApiResponse({ status: 200, type: FilterTestResultDto })
  @ApiResponse({ status: 400, description: 'Invalid filter (the message names the path and the problem) or type', type: ErrorResponseDto })
  async testFilter(@Body() body: FilterTestDto): Promise<FilterTestResultDto> {
    const type = body.type ?? 'service.started';
    const catalogue = await this.events.catalogue();
    if (!catalogue.get(type))
      throw new AppError('UNKNOWN_EVENT_TYPE', `type must be an event type; unknown "${type.slice(0, 100)}"; valid types: ${catalogue.names()}`);
    return { matches: compileFilter(body.filter)({ type, data: body.payload }) };
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks', description: 'Newest first; filter by `enabled` and by `event` (webhooks that receive that type).' })
  @ApiResponse({ status: 200, type: WebhookListDto })
  @ApiResponse({ status: 400, description: 'Bad filter or paging value', type: ErrorResponseDto })
  async list(@Query() query: WebhookListQueryDto, @CurrentUser() user: AuthUser): Promise<WebhookListDto> {
    const { items, total } = await this.webhooks.list({ enabled: query.enabled, event: query.event, limit: query.limit, offset: query.offset });
    const maskHeaders = user.role !== 'admin';
    return { items: items.map((w) => presentWebhook(w, { maskHeaders })), total, limit: query.limit, offset: query.offset };
  }

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: 'Create a webhook',
    description: 'The response is the only place besides GET …/secret and rotate-secret that shows the full secret.',
  })
  @ApiResponse({ status: 201, type: WebhookWithSecretDto })
  @ApiResponse({ status: 400, description: 'Invalid field (the message names it)', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  async create(@Body() body: CreateWebhookDto): Promise<WebhookWithSecretDto> {
    return presentWebhookWithSecret(await this.webhooks.create(body));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a webhook (secret masked)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: WebhookDto })
  @ApiResponse({ status: 400, description: 'id is not a UUID', type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async get(@Param('id', idParam) id: string, @CurrentUser() user: AuthUser): Promise<WebhookDto> {
    return presentWebhook(await this.webhooks.getOrFail(id), { maskHeaders: user.role !== 'admin' });
  }

  @Put(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Update a webhook', description: 'Any subset of the create fields. Enabling clears the failure state.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: WebhookDto })
  @ApiResponse({ status: 400, description: 'Invalid field or id', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async update(@Param('id', idParam) id: string, @Body() body: UpdateWebhookDto): Promise<WebhookDto> {
    return presentWebhook(await this.webhooks.update(id, body));
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook', description: 'Its delivery log and pending attempts go with it.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiResponse({ status: 400, description: 'id is not a UUID', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async remove(@Param('id', idParam) id: string): Promise<void> {
    await this.webhooks.remove(id);
  }

  @Post(':id/toggle')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Enable or disable a webhook',
    description: 'Flips `enabled`. Enabling clears the failure state (consecutive failures, failing since, disabled reason).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: WebhookDto })
  @ApiResponse({ status: 400, description: 'id is not a UUID', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async toggle(@Param('id', idParam) id: string): Promise<WebhookDto> {
    return presentWebhook(await this.webhooks.toggle(id));
  }

  @Get(':id/secret')
  @Roles('admin')
  @ApiOperation({ summary: 'Reveal the signing secret', description: 'The current secret and, during a rotation, the previous one until it expires.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: WebhookSecretDto })
  @ApiResponse({ status: 400, description: 'id is not a UUID', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async secret(@Param('id', idParam) id: string): Promise<WebhookSecretDto> {
    return this.webhooks.secrets(id);
  }

  @Post(':id/rotate-secret')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description:
      'Generates a new secret. For 24 hours deliveries carry signatures with both secrets (webhook-signature), so receivers can switch without downtime.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: RotatedSecretDto })
  @ApiResponse({ status: 400, description: 'id is not a UUID', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async rotateSecret(@Param('id', idParam) id: string): Promise<RotatedSecretDto> {
    return this.webhooks.rotateSecret(id);
  }
}
