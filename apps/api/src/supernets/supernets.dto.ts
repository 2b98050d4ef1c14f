import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DEFAULT_SUPERNET_MINUTES } from '@detsearch/orchestrator';
import { Type } from 'class-transformer';
import {
  IsEnum,
  IsInt,
  IsNotEmptyObject,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';

export enum ActivationName {
  silu = 'silu',
  relu = 'relu',
  hardswish = 'hardswish',
  leakyrelu = 'leakyrelu',
}

export enum SupernetStatus {
  training = 'training',
  ready = 'ready',
  failed = 'failed',
  cancelled = 'cancelled',
}

/** POST /supernets: the search space (a preset's, and/or overrides), dataset, budget and activation. */
export class CreateSupernetDto {
  @ApiPropertyOptional({
    description: 'Preset whose search space to cover (GET /presets)',
    example: 'quick-demo',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  preset?: string;

  @ApiPropertyOptional({
    description: 'Search-space overrides (the YAML schema of search-spaces/yolov5.yaml, as JSON)',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsNotEmptyObject()
  @IsObject()
  searchSpace?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'data.yaml below DATA_ROOT (default: the generated synthetic dataset)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  dataset?: string;

  @ApiPropertyOptional({
    description: 'Training time budget, minutes',
    minimum: 0.01,
    maximum: 10_080,
    default: DEFAULT_SUPERNET_MINUTES,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(10_080)
  minutes?: number;

  @ApiPropertyOptional({
    enum: ActivationName,
    enumName: 'ActivationName',
    description: "One supernet per activation; default the space's first",
  })
  @IsOptional()
  @IsEnum(ActivationName)
  activation?: ActivationName;

  @ApiPropertyOptional({ minimum: 0, maximum: 2 ** 31 - 1 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed?: number;
}

export class SupernetProgressDto {
  @ApiProperty({ description: 'Share of the training budget done, 0..1' }) fraction!: number;
  @ApiProperty() epoch!: number;
  @ApiProperty({ nullable: true, type: Number }) etaSeconds!: number | null;
  @ApiProperty() message!: string;
}

export class SupernetViewDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: SupernetStatus, enumName: 'SupernetStatus' }) status!: SupernetStatus;
  @ApiProperty({ enum: ActivationName, enumName: 'ActivationName' }) activation!: ActivationName;
  @ApiProperty({
    description: 'Hash of data.yaml and its files (names, sizes), or of the synthetic settings',
  })
  datasetFingerprint!: string;
  @ApiProperty({ description: 'Hash of the canonical resolved search space' }) spaceFingerprint!: string;
  @ApiProperty({ nullable: true, type: String }) dataset!: string | null;
  @ApiProperty({
    type: [Number],
    description: 'Training image sizes: one weight set each, scoring the genomes of the nearest size',
  })
  imageSizes!: number[];
  @ApiProperty({ nullable: true, type: Number }) budgetMinutes!: number | null;
  @ApiProperty() epochs!: number;
  @ApiProperty({ description: 'Training minutes so far' }) minutes!: number;
  @ApiProperty({ type: SupernetProgressDto, nullable: true }) progress!: SupernetProgressDto | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'Largest and smallest sub-networks’ mAP (at the largest training size), steps, image sizes, and `perSize`: each weight set’s own',
  })
  metrics!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: Number }) sizeBytes!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Weights file, relative to DETSEARCH_HOME' })
  artifactPath!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
}

export class SupernetListDto {
  @ApiProperty({ type: [SupernetViewDto] }) items!: SupernetViewDto[];
}

export class SupernetsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}
