import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString } from 'class-validator';
import { PageQueryDto } from '../common/page-query.dto';
import { CATEGORIES, EVENT_TYPES } from './event-catalogue';
import { PageOf } from '../common/page.dto';

export class EventTypeDto {
  @ApiProperty({ example: 'service.started' })
  type: string;

  @ApiProperty({ enum: CATEGORIES, example: 'service' })
  category: string;

  @ApiProperty({ example: 'A service started' })
  description: string;
}

/** Swagger shape of the POST /api/events body (validated by parseEmitBody, see emit-body.ts). */
export class EmitEventDto {
  @ApiProperty({ enum: EVENT_TYPES.filter((t) => !t.startsWith('webhook.')), example: 'service.started' })
  type: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'The event data: any JSON object (default {}). Stored and delivered as canonical JSON.',
    example: { service_id: 'svc-42', name: 'nginx' },
  })
  data?: Record<string, unknown>;
}

export class EmittedEventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'service.started' })
  type: string;
}

export class EventListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: EVENT_TYPES, description: 'Only events of this type' })
  @IsOptional()
  @IsString()
  type?: string;

  @ApiPropertyOptional({ description: 'Only events created at or after this ISO 8601 timestamp (inclusive)', example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 timestamp' })
  since?: string;

  @ApiPropertyOptional({ description: 'Only events created before this ISO 8601 timestamp (exclusive)', example: '2027-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 timestamp' })
  until?: string;
}

export class EventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'service.started' })
  type: string;

  @ApiProperty({ description: 'The event payload', type: 'object', additionalProperties: true })
  data: unknown;

  @ApiProperty({ example: '2026-01-01T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ nullable: true, type: String, description: 'When the event was matched to its subscribers; null while pending' })
  fanned_out_at: string | null;
}

export class EventListDto extends PageOf(EventDto) {}
