import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ObjectiveName, SearchStatus, StrategyName, TrialStatus } from './searches.dto';

/** Trial rows and Pareto points say the same about their latency. */
const LATENCY_SOURCE_PROPERTY = {
  nullable: true,
  enum: ['measured', 'predicted'],
  description:
    "Whether latencyMs was timed on a machine or predicted by the profile's roofline (null: not recorded)",
};
const LATENCY_PROVENANCE_PROPERTY = {
  nullable: true,
  type: String,
  description: 'Where and how: machine and threads when measured, profile and its calibration when predicted',
};
const REUSED_PROPERTY = {
  type: Boolean,
  description:
    "Copied in by a warm start from an earlier search's evaluation of the same genome (same dataset, " +
    "evaluator and fidelity): its mAP as trained there, latency for this search's profile; not trained here " +
    'and not counted in the budget',
};
const REUSED_FROM_PROPERTY = {
  nullable: true,
  type: String,
  description: 'The trial a reused trial was copied from (null when not reused, or that search was deleted)',
};

/*
 * Response shapes for the OpenAPI document. The controllers return the orchestrator's views as
 * they are; these classes describe them (main fields; objects such as genomes are open).
 */

export class ProgressDto {
  @ApiProperty() total!: number;
  @ApiProperty() queued!: number;
  @ApiProperty() running!: number;
  @ApiProperty() completed!: number;
  @ApiProperty() pruned!: number;
  @ApiProperty() failed!: number;
  @ApiProperty({ description: 'The trial budget' }) budget!: number;
  @ApiProperty({ description: 'Finished / budget, 0..1' }) fraction!: number;
  @ApiProperty({
    description:
      'Trials a warm start copied in from earlier searches on the same dataset and fidelity (not in the counts above, nor the budget)',
  })
  reused!: number;
}

export class BestSoFarDto {
  @ApiProperty() trialId!: string;
  @ApiProperty() number!: number;
  @ApiProperty({ nullable: true, type: Number }) map50!: number | null;
  @ApiProperty() map50_95!: number;
  @ApiProperty({ nullable: true, type: Number }) latencyMs!: number | null;
  @ApiProperty({ nullable: true, type: Number }) sizeBytes!: number | null;
  @ApiProperty() paretoSize!: number;
}

export class SearchViewDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SearchStatus, enumName: 'SearchStatus' }) status!: SearchStatus;
  @ApiProperty({ enum: StrategyName, enumName: 'StrategyName' }) strategy!: StrategyName;
  @ApiProperty({ enum: ObjectiveName, enumName: 'ObjectiveName', isArray: true })
  objectives!: ObjectiveName[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) constraints!: Record<
    string,
    number
  >;
  @ApiProperty({ type: 'object', additionalProperties: true }) budget!: Record<string, number>;
  @ApiProperty() seed!: number;
  @ApiProperty() hardwareProfile!: string;
  @ApiProperty({ nullable: true, type: String }) preset!: string | null;
  @ApiProperty() evaluator!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "The supernet the 'supernet' evaluator scores with",
  })
  supernetId!: string | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'Final stage: {topK, epochs, seeds}',
  })
  fineTune!: Record<string, number> | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) fidelity!: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Resolved search-space spec' })
  searchSpace!: Record<string, unknown>;
  @ApiProperty({ type: ProgressDto }) progress!: ProgressDto;
  @ApiProperty({ type: BestSoFarDto, nullable: true }) best!: BestSoFarDto | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
}

export class EpochMetricDto {
  @ApiProperty() epoch!: number;
  @ApiPropertyOptional() loss?: number;
  @ApiPropertyOptional() map50?: number;
  @ApiPropertyOptional() map50_95?: number;
}

/** A leaderboard row (GET /searches/:id/trials): LEADERBOARD_FIELDS of libs/persistence. */
export class LeaderboardTrialDto {
  @ApiProperty() id!: string;
  @ApiProperty() searchId!: string;
  @ApiProperty({ description: '0-based creation order within the search' }) number!: number;
  @ApiProperty({ enum: TrialStatus, enumName: 'TrialStatus' }) status!: TrialStatus;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The genome (its fields: GET /catalog genomeDimensions)',
  })
  genome!: Record<string, unknown>;
  @ApiProperty() genomeKey!: string;
  @ApiProperty({ description: 'Target epochs (full fidelity)' }) epochs!: number;
  @ApiProperty() epochsDone!: number;
  @ApiProperty({ description: 'Highest ASHA rung reached (0 = first)' }) rung!: number;
  @ApiProperty({ nullable: true, type: Number, description: "Training image size when not the genome's" })
  imageSize!: number | null;
  @ApiProperty({ nullable: true, type: Number }) map50!: number | null;
  @ApiProperty({ nullable: true, type: Number }) map50_95!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'mAP@0.5:0.95 of the fp32 model' })
  fp32Map50_95!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: "On the search's hardware profile" })
  latencyMs!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Measured on the evaluating host' })
  measuredLatencyMs!: number | null;
  @ApiProperty(LATENCY_SOURCE_PROPERTY) latencySource!: 'measured' | 'predicted' | null;
  @ApiProperty(LATENCY_PROVENANCE_PROPERTY) latencyProvenance!: string | null;
  @ApiProperty({ nullable: true, type: Number }) params!: number | null;
  @ApiProperty({ nullable: true, type: Number }) gflops!: number | null;
  @ApiProperty({ nullable: true, type: Number }) sizeBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Sum of constraint excesses; 0 = feasible' })
  violation!: number | null;
  @ApiProperty({ description: "On the search's Pareto front" }) onFront!: boolean;
  @ApiProperty({
    nullable: true,
    type: Boolean,
    description: 'Within every constraint; null until the trial has results (queued, running, failed)',
  })
  feasible!: boolean | null;
  @ApiProperty({ nullable: true, type: String }) evaluator!: string | null;
  @ApiProperty({ nullable: true, type: String }) backend!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: "The supernet's estimate of mAP@0.5 (inherited weights, no training of its own)",
  })
  estimateMap50!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: "The supernet's estimate of mAP@0.5:0.95" })
  estimateMap50_95!: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'After the final stage: mAP@0.5 as deployed of the fine-tuned model (mean over seeds)',
  })
  finetunedMap50!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Fine-tuned mAP@0.5:0.95 (mean over seeds)' })
  finetunedMap50_95!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Standard deviation over seeds (2 seeds)' })
  finetunedMap50Std!: number | null;
  @ApiProperty({ nullable: true, type: Number }) finetunedMap50_95Std!: number | null;
  @ApiProperty({ nullable: true, type: Number }) finetuneEpochs!: number | null;
  @ApiProperty({ nullable: true, type: Number }) finetuneSeeds!: number | null;
  @ApiProperty(REUSED_PROPERTY) reused!: boolean;
  @ApiProperty(REUSED_FROM_PROPERTY) reusedFromTrialId!: string | null;
}

/** One trial with every field (GET /trials/:id, and leaderboard rows with view=full). */
export class TrialDto extends LeaderboardTrialDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "The strategy's search-space point",
  })
  searchParams!: Record<string, unknown>;
  @ApiProperty({ type: [EpochMetricDto] }) epochMetrics!: EpochMetricDto[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } })
  latencyPerProfile!: Record<string, number>;
  @ApiProperty({ nullable: true, type: [Number], description: "Minimized, in the search's objective order" })
  objectiveValues!: number[] | null;
  @ApiProperty({ nullable: true, type: [Number], description: 'Feasible when every one is <= 0' })
  constraintValues!: number[] | null;
  @ApiProperty({ nullable: true, type: String }) notes!: string | null;
  @ApiProperty({ nullable: true, type: String }) workerId!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) heartbeatAt!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Exported model on the server (rows written before the artifact store); see modelKey',
  })
  onnxPath!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Artifact-store key of the exported model (GET /trials/:id/model.onnx serves it)',
  })
  modelKey!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Artifact-store key of the trained weights' })
  weightsKey!: string | null;
}

export class ArtifactDto {
  @ApiProperty({ description: 'Store key, e.g. searches/<id>/trials/<id>/a1/model-int8.onnx' }) key!: string;
  @ApiProperty({ description: 'Bytes' }) size!: number;
  @ApiProperty({ description: 'Hex SHA-256 of the bytes, computed when they were stored' }) sha256!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
}

export class SearchArtifactsDto {
  @ApiProperty() searchId!: string;
  @ApiProperty({ description: "The artifact store: 'fs', 'postgres' or 's3' (ARTIFACT_STORE)" })
  store!: string;
  @ApiProperty({ description: 'Artifacts of the search' }) count!: number;
  @ApiProperty({ description: 'Their total size in bytes' }) bytes!: number;
  @ApiProperty({ type: [ArtifactDto] }) items!: ArtifactDto[];
}

export class TrialPageDto {
  @ApiProperty({
    type: [LeaderboardTrialDto],
    description: 'With view=full each item has every field of TrialDto',
  })
  items!: LeaderboardTrialDto[];
  @ApiProperty({ description: 'Trials matching the filter, all pages' }) total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as after (with the same sort) for the next page; null on the last page',
  })
  nextCursor!: string | null;
}

export class ParetoPointDto {
  @ApiProperty() trialId!: string;
  @ApiProperty() number!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) objectives!: Record<
    string,
    number
  >;
  @ApiProperty({ nullable: true, type: Number }) map50!: number | null;
  @ApiProperty() map50_95!: number;
  @ApiProperty() latencyMs!: number;
  @ApiProperty(LATENCY_SOURCE_PROPERTY) latencySource!: 'measured' | 'predicted' | null;
  @ApiProperty(LATENCY_PROVENANCE_PROPERTY) latencyProvenance!: string | null;
  @ApiProperty(REUSED_PROPERTY) reused!: boolean;
  @ApiProperty(REUSED_FROM_PROPERTY) reusedFromTrialId!: string | null;
  @ApiProperty({ nullable: true, type: Number }) sizeBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) params!: number | null;
  @ApiProperty({ nullable: true, type: Number }) gflops!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) genome!: Record<string, unknown>;
  @ApiProperty() genomeKey!: string;
  @ApiProperty({ nullable: true, type: String }) evaluator!: string | null;
  @ApiProperty({ nullable: true, type: String }) backend!: string | null;
  @ApiProperty({ nullable: true, type: Number }) estimateMap50!: number | null;
  @ApiProperty({ nullable: true, type: Number }) estimateMap50_95!: number | null;
  @ApiProperty({ nullable: true, type: Number }) finetunedMap50!: number | null;
  @ApiProperty({ nullable: true, type: Number }) finetunedMap50_95!: number | null;
  @ApiProperty({ nullable: true, type: Number }) finetunedMap50Std!: number | null;
  @ApiProperty({ nullable: true, type: Number }) finetunedMap50_95Std!: number | null;
}

export class ParetoFrontDto {
  @ApiProperty() searchId!: string;
  @ApiProperty({ enum: ObjectiveName, enumName: 'ObjectiveName', isArray: true })
  objectives!: ObjectiveName[];
  @ApiProperty({ description: 'Feasible completed trials considered' }) considered!: number;
  @ApiProperty({ type: [ParetoPointDto] }) points!: ParetoPointDto[];
}
