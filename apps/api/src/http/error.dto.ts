import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Every error response. */
export class ErrorDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'budget.trials: must not be greater than 10000' })
  message!: string;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiPropertyOptional({ description: 'Domain error code', example: 'SEARCH.UNKNOWN_PRESET' })
  code?: string;

  @ApiPropertyOptional({ description: 'The offending field, as a dotted path', example: 'budget.trials' })
  field?: string;
}
