import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Roles } from '../common/roles.decorator';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import { CatalogueEntry, EventTypesService } from './event-types.service';
import { CreateEventTypeDto, EventTypeDto, UpdateEventTypeDto } from './events.dto';

function toDto(e: CatalogueEntry): EventTypeDto {
  return {
    type: e.type,
    category: e.category,
    description: e.description,
    schema: e.schema,
    example: e.example,
    enforced: e.enforced,
    deprecated: e.deprecated,
    builtin: e.builtin,
    version: e.version,
  };
}

/** "- `service.started`: service (required), service_id, node" lines for the Swagger description. */
function builtinFields(): string {
  return Object.entries(BUILTIN_SCHEMAS)
    .map(([type, { schema }]) => {
      const required = new Set((schema.required as string[]) ?? []);
      const fields = Object.keys((schema.properties as Record<string, unknown>) ?? {}).map((f) => (required.has(f) ? `**${f}**` : f));
      return `- \`${type}\`: ${fields.join(', ')}`;
    })
    .join('\n');
}

@ApiTags('Events')
@ApiBearerAuth()
@Controller('events/types')
@ApiResponse({ status: 401, description: 'Missing or invalid token', type: ErrorResponseDto })
export class EventTypesController {
  constructor(private readonly types: EventTypesService) {}

  @Get()
  @ApiOperation({
    summary: 'The event catalogue: every type with its category, description, JSON Schema of `data`, example and flags',
    description:
      'Built-in types describe the fields ATLAS producers usually send and are not enforced until an admin turns enforcement on; ' +
      'admin-added types are enforced from the start. Fields of the built-in types (required in bold; more are allowed):\n\n' +
      builtinFields(),
  })
  @ApiResponse({ status: 200, type: [EventTypeDto] })
  async list(): Promise<EventTypeDto[]> {
    return (await this.types.catalogue()).entries.map(toDto);
  }

  @Post()
  @Roles('admin')
  @HttpCode(201)
  @ApiOperation({ summary: 'Add an event type with its schema and example (enforced unless `enforced: false`); subscribable at once' })
  @ApiResponse({ status: 201, type: EventTypeDto })
  @ApiResponse({ status: 400, description: 'Bad name, schema not valid JSON Schema, or example not matching it', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 409, description: 'The type exists already', type: ErrorResponseDto })
  async add(@Body() body: CreateEventTypeDto): Promise<EventTypeDto> {
    return toDto(await this.types.add(body));
  }

  @Patch(':type')
  @Roles('admin')
  @ApiOperation({
    summary: 'Change a type: its schema and example (raises version), description, enforcement, deprecation',
    description: 'Works on built-in types too (the change is kept as an override). Other instances see it within a second.',
  })
  @ApiParam({ name: 'type', example: 'service.started' })
  @ApiResponse({ status: 200, type: EventTypeDto })
  @ApiResponse({ status: 400, description: 'Schema not valid, example not matching, or webhook.test', type: ErrorResponseDto })
  @ApiResponse({ status: 403, description: 'Admins only', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such type', type: ErrorResponseDto })
  async update(@Param('type') type: string, @Body() body: UpdateEventTypeDto): Promise<EventTypeDto> {
    return toDto(await this.types.update(type, body));
  }
}
