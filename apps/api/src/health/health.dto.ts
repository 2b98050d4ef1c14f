import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class DatabaseHealthDto {
  @ApiProperty({ enum: ['postgres', 'pglite'] })
  kind!: string;

  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ description: 'Round trip of SELECT 1, ms' })
  latencyMs!: number;

  @ApiPropertyOptional()
  error?: string;
}

export class HealthDto {
  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ type: DatabaseHealthDto })
  database!: DatabaseHealthDto;

  @ApiProperty({ description: 'Searches whose loop runs in this process' })
  activeSearches!: number;

  @ApiProperty({ type: [String], example: ['surrogate', 'full'] })
  evaluators!: string[];
}
