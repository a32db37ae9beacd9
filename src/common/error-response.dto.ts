import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The body of every 4xx/5xx response. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  status_code: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Stable machine-readable code' })
  code: string;

  @ApiProperty({ example: 'url must be an http(s) URL' })
  message: string;

  @ApiPropertyOptional({ description: 'Every problem found, when there are several' })
  details?: unknown;

  @ApiPropertyOptional()
  request_id?: string;
}
