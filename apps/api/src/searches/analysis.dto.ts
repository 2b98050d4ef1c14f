import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { IMPORTANCE_OBJECTIVES, type ImportanceObjective } from '@detsearch/orchestrator';
import { EpochMetricDto, TrialDto } from './views.dto';

export class PlotTrialsQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 5000,
    default: 2000,
    description: 'Past this many trials with results: the Pareto front and an even sample of the rest',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;

  @ApiPropertyOptional({
    enum: IMPORTANCE_OBJECTIVES,
    default: 'map50_95',
    description: 'Objective of the importance',
  })
  @IsOptional()
  @IsIn(IMPORTANCE_OBJECTIVES)
  objective?: ImportanceObjective;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Only trials finished after this (the asOf of a previous answer): an increment, without importance',
  })
  @IsOptional()
  @IsISO8601()
  finishedAfter?: string;
}

export class CurvesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class HypervolumeStepDto {
  @ApiProperty({ description: 'Completed trials so far' }) x!: number;
  @ApiProperty({ description: 'Normalized hypervolume after them' }) y!: number;
  @ApiProperty({ description: 'Number of the trial that completed at this step' }) number!: number;
}

export class HypervolumeDto {
  @ApiProperty() searchId!: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Reference point: mAP 0 and this latency (1.1 x the slowest completed trial)',
  })
  referenceLatencyMs!: number | null;
  @ApiProperty({ description: 'Completed trials with mAP and latency' }) completed!: number;
  @ApiProperty({
    type: [HypervolumeStepDto],
    description:
      'Area dominated in (max mAP@0.5:0.95, min latency) over the reference latency; the steps where it changes, and the last',
  })
  steps!: HypervolumeStepDto[];
}

export class DimensionImportanceDto {
  @ApiProperty({ description: 'Genome dimension, flattened (quantization.precision, separable.count)' })
  name!: string;
  @ApiProperty({ description: "Share of the objective's variance its main effect explains, 0..1" })
  importance!: number;
  @ApiProperty() groups!: number;
}

export class ImportanceDto {
  @ApiProperty({ enum: IMPORTANCE_OBJECTIVES }) objective!: string;
  @ApiProperty() method!: string;
  @ApiProperty() trials!: number;
  @ApiProperty({ type: [DimensionImportanceDto] }) dimensions!: DimensionImportanceDto[];
}

export class PlotTrialsDto {
  @ApiProperty() searchId!: string;
  @ApiProperty({ description: 'Trials with results (completed, pruned)' }) total!: number;
  @ApiProperty({ description: 'items is a sample: the front and an even share of the rest' })
  sampled!: boolean;
  @ApiProperty({
    type: [TrialDto],
    description: 'Subset of the trial fields: id, number, status, genome, metrics',
  })
  items!: TrialDto[];
  @ApiProperty({ type: [String], description: 'Genome dimensions that vary among the items' })
  dimensions!: string[];
  @ApiProperty({ type: ImportanceDto, nullable: true, description: 'null in an increment' })
  importance!: ImportanceDto | null;
}

export class TrialCurveDto {
  @ApiProperty() trialId!: string;
  @ApiProperty() number!: number;
  @ApiProperty() status!: string;
  @ApiProperty() epochs!: number;
  @ApiProperty() epochsDone!: number;
  @ApiProperty({ type: [EpochMetricDto] }) epochMetrics!: EpochMetricDto[];
}

export class CurvesDto {
  @ApiProperty() searchId!: string;
  @ApiProperty({ type: [TrialCurveDto] }) items!: TrialCurveDto[];
}
