import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  OBJECTIVES,
  SEARCH_STATUSES,
  STRATEGY_NAMES,
  TRIAL_STATUSES,
  type ObjectiveName as DomainObjectiveName,
  type SearchStatus as DomainSearchStatus,
  type StrategyName as DomainStrategyName,
  type TrialStatus as DomainTrialStatus,
} from '@detsearch/domain';
import {
  BUILT_IN_EVALUATORS,
  DEFAULT_EVALUATOR,
  DEFAULT_SUPERNET_ADAPT_STEPS,
  DEFAULT_SUPERNET_MINUTES,
  MAX_NAME_LENGTH,
  MAX_SUPERNET_ADAPT_STEPS,
  MAX_TRIALS,
} from '@detsearch/orchestrator';
import { RANK_SORT, TRIAL_SORT_KEYS as TRIAL_SORT_FIELDS } from '@detsearch/persistence';
import { Type } from 'class-transformer';
import { IsEnum, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

/*
 * Named enums so the OpenAPI document names them (and stays stable), each derived from the list
 * the domain validates against: they cannot disagree with the launch schema.
 */
/** An enum-like object (name -> name) of a registry's names, as class-validator and Swagger take it. */
function enumOf<const N extends string>(names: readonly N[]): { readonly [K in N]: K } {
  return Object.fromEntries(names.map((n) => [n, n])) as { readonly [K in N]: K };
}

export const StrategyName = enumOf(STRATEGY_NAMES);
export type StrategyName = DomainStrategyName;

export const ObjectiveName = enumOf(OBJECTIVES);
export type ObjectiveName = DomainObjectiveName;

export const EvaluatorName = enumOf(BUILT_IN_EVALUATORS.map((e) => e.name));
export type EvaluatorName = string;

export const TrialStatus = enumOf(TRIAL_STATUSES);
export type TrialStatus = DomainTrialStatus;

export const SearchStatus = enumOf(SEARCH_STATUSES);
export type SearchStatus = DomainSearchStatus;

/** Leaderboard rows: the light projection (default), or every field as GET /trials/:id. */
export enum TrialView {
  leaderboard = 'leaderboard',
  full = 'full',
}

export enum ParetoFormat {
  json = 'json',
  csv = 'csv',
}

/*
 * The launch body, for the OpenAPI document only: POST /searches is validated by the domain's one
 * launch schema (launchRequestSchema), which rejects unknown keys and names every field.
 */
export class BudgetDto {
  @ApiProperty({ minimum: 1, maximum: MAX_TRIALS, example: 40, description: 'Trials to run in all' })
  trials!: number;

  @ApiPropertyOptional({
    minimum: 0.01,
    maximum: 10_080,
    description: 'Stop after this much wall-clock time',
  })
  wallClockMinutes?: number;
}

export class ConstraintsDto {
  @ApiPropertyOptional({
    description: 'Latency limit on the hardware profile, ms',
    exclusiveMinimum: true,
    minimum: 0,
  })
  maxLatencyMs?: number;

  @ApiPropertyOptional({ description: 'Model size limit, bytes', minimum: 1 })
  maxSizeBytes?: number;

  @ApiPropertyOptional({ description: 'Parameter count limit', minimum: 1 })
  maxParams?: number;

  @ApiPropertyOptional({ description: 'GFLOPs limit', exclusiveMinimum: true, minimum: 0 })
  maxGflops?: number;

  @ApiPropertyOptional({ description: 'Lowest acceptable mAP@0.5:0.95', minimum: 0, maximum: 1 })
  minMap50_95?: number;
}

/** Training fidelity; minEpochs < epochs turns on asynchronous successive halving (ASHA). */
export class FidelityDto {
  @ApiProperty({ minimum: 1, maximum: 1000, description: 'Full epochs of one trial' })
  epochs!: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, description: 'First ASHA rung' })
  minEpochs?: number;

  @ApiPropertyOptional({ minimum: 2, maximum: 10, description: 'ASHA reduction factor' })
  eta?: number;

  @ApiPropertyOptional({ minimum: 32, maximum: 1280, description: 'Training image size (multiple of 32)' })
  imageSize?: number;

  @ApiPropertyOptional({
    type: [Number],
    example: [160, 224],
    description:
      'Image size as a fidelity: the training image size of each ASHA rung segment in order (epochs up to ' +
      'the first rung, then up to the second, ...), increasing, each below imageSize; later segments and ' +
      "promoted trials train at the full size (imageSize, else the genome's). Needs rungs (minEpochs < " +
      'epochs), at most one size per rung, and an evaluator that supports it (surrogate)',
  })
  imageSizes?: number[];
}

/** Final stage of a supernet search: the front's best fine-tuned with the full trainer. */
export class FineTuneDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 100,
    default: 3,
    description: "Front's best K fine-tuned (0: none)",
  })
  topK?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1000,
    description: "Epochs each (default the fidelity's epochs)",
  })
  epochs?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 2,
    default: 1,
    description: '2: a second seed, mean and spread',
  })
  seeds?: number;
}

export class CreateSearchDto {
  @ApiPropertyOptional({ maxLength: MAX_NAME_LENGTH, example: 'pi4-int8' })
  name?: string;

  @ApiPropertyOptional({ description: 'Preset name (GET /presets)', example: 'raspberry-pi-4' })
  preset?: string;

  @ApiPropertyOptional({
    enum: StrategyName,
    enumName: 'StrategyName',
    description: 'Required unless the preset gives one',
  })
  strategy?: StrategyName;

  @ApiPropertyOptional({
    description:
      'Objectives: map50_95 is maximized, latency (on the hardware profile) and size minimized. ' +
      'Required unless the preset gives them',
    enum: ObjectiveName,
    enumName: 'ObjectiveName',
    isArray: true,
    example: ['map50_95', 'latency'],
  })
  objectives?: ObjectiveName[];

  @ApiPropertyOptional({ type: ConstraintsDto })
  constraints?: ConstraintsDto;

  @ApiPropertyOptional({ type: BudgetDto, description: 'Required unless the preset gives one' })
  budget?: BudgetDto;

  @ApiPropertyOptional({ minimum: 0, maximum: 2 ** 31 - 1, example: 1 })
  seed?: number;

  @ApiPropertyOptional({
    description: 'Search-space overrides (the YAML schema of search-spaces/yolov5.yaml, as JSON)',
    type: 'object',
    additionalProperties: true,
  })
  searchSpace?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Hardware profile name (GET /hardware-profiles)', example: 't4' })
  hardwareProfile?: string;

  @ApiPropertyOptional({ description: 'Dataset (data.yaml below DATA_ROOT, or "synthetic")' })
  dataset?: string;

  @ApiPropertyOptional({ type: FidelityDto })
  fidelity?: FidelityDto;

  @ApiPropertyOptional({ enum: EvaluatorName, enumName: 'EvaluatorName', default: DEFAULT_EVALUATOR })
  evaluator?: EvaluatorName;

  @ApiPropertyOptional({
    description:
      "evaluator 'supernet': the supernet to score with (GET /supernets); absent: a ready one of the " +
      'same dataset and space, else one is trained first',
    format: 'uuid',
  })
  supernetId?: string;

  @ApiPropertyOptional({ type: FineTuneDto, description: "evaluator 'supernet': the final stage" })
  fineTune?: FineTuneDto;

  @ApiPropertyOptional({
    minimum: 0.01,
    maximum: 10_080,
    default: DEFAULT_SUPERNET_MINUTES,
    description: "evaluator 'supernet': training budget when a supernet must be trained first, minutes",
  })
  supernetMinutes?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_SUPERNET_ADAPT_STEPS,
    default: DEFAULT_SUPERNET_ADAPT_STEPS,
    description:
      "evaluator 'supernet': training steps (8 images each) every candidate takes from its inherited " +
      'weights before it is scored; more rank the candidates more like standalone training, at about ' +
      'half a second each on one core. 0: the weights as sliced',
  })
  supernetAdaptSteps?: number;

  @ApiPropertyOptional({
    default: true,
    description:
      'Start from earlier evaluations of the same genomes on the same dataset, evaluator, fidelity (and ' +
      'supernet): their mAP is reused, their latency predicted for this profile, and they are told to ' +
      'the strategy before its first ask, marked reused and outside the budget. false: start from zero',
  })
  warmStart?: boolean;
}

export class CreatedSearchDto {
  @ApiProperty({ example: '3f1c9a2e-0d4b-4c55-9e1a-7f0c2b6d8e91' })
  id!: string;

  @ApiProperty({ enum: SearchStatus, enumName: 'SearchStatus' })
  status!: SearchStatus;
}

/** Deepest offset a list accepts (a 32-bit row count; deeper pages use cursors). */
export const MAX_OFFSET = 2 ** 31 - 1;

export class EstimateDatasetDto {
  @ApiProperty({ description: 'true when the trials would train on the generated synthetic shapes' })
  synthetic!: boolean;
}

/** POST /searches/estimate: how long the same body would take on this machine, before launching. */
export class SearchEstimateDto {
  @ApiProperty({ description: 'Expected wall-clock seconds, with ASHA pruning', example: 420 })
  seconds!: number;

  @ApiProperty({ description: 'Expected seconds of one trial', example: 95 })
  perTrialSeconds!: number;

  @ApiProperty({ example: 8 })
  trials!: number;

  @ApiProperty({ description: 'What the estimate rests on: epochs, images, model size, measured throughput' })
  basis!: string;

  @ApiProperty({ description: 'Every trial trained to the full epochs (no pruning)' })
  maxSeconds!: number;

  @ApiProperty({ description: 'Seconds of one epoch of a typical model of the space' })
  perEpochSeconds!: number;

  @ApiProperty()
  expectedEpochs!: number;

  @ApiProperty({ description: 'Trials evaluated at once' })
  parallel!: number;

  @ApiProperty({ description: 'Mean forward GFLOPs of the space at the training size' })
  typicalGflops!: number;

  @ApiProperty()
  evaluator!: string;

  @ApiProperty({ type: EstimateDatasetDto })
  dataset!: EstimateDatasetDto;
}

/** Leaderboard sort keys (the persistence layer's sortable columns); a leading '-' sorts descending. */
export type TrialSort =
  typeof RANK_SORT | (typeof TRIAL_SORT_FIELDS)[number] | `-${(typeof TRIAL_SORT_FIELDS)[number]}`;
export const TRIAL_SORT_KEYS: TrialSort[] = [
  RANK_SORT,
  ...TRIAL_SORT_FIELDS.flatMap((f) => [f, `-${f}` as const]),
];

export class TrialsQueryDto {
  @ApiPropertyOptional({
    enum: TRIAL_SORT_KEYS,
    default: RANK_SORT,
    description:
      'rank: feasible completed trials first, then feasible pruned ones, then those over a constraint, then the rest, ' +
      "best mAP@0.5:0.95 first within each. Any other key: '-' prefix descending; trials without the value " +
      '(unfinished) come last either way; ties by number',
  })
  @IsOptional()
  @IsIn(TRIAL_SORT_KEYS)
  sort?: TrialSort;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({
    minimum: 0,
    default: 0,
    maximum: MAX_OFFSET,
    description: 'Rows to skip (cost grows with the offset; deep pages: use after). Not with after',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  offset?: number;

  @ApiPropertyOptional({ enum: TrialStatus, enumName: 'TrialStatus' })
  @IsOptional()
  @IsEnum(TrialStatus)
  status?: TrialStatus;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description:
      'true: only trials within every constraint; false: only those over one. Trials without results ' +
      '(queued, running, failed) match neither',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  feasible?: 'true' | 'false';

  @ApiPropertyOptional({
    description:
      'Keyset cursor: the nextCursor of the previous page, requested with the same sort. Opaque; ' +
      'constant cost at any depth. Not with offset > 0',
    maxLength: 512,
  })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  after?: string;

  @ApiPropertyOptional({
    enum: TrialView,
    enumName: 'TrialView',
    default: TrialView.leaderboard,
    description: 'leaderboard: the fields of LeaderboardTrial; full: every field, as GET /trials/:id',
  })
  @IsOptional()
  @IsEnum(TrialView)
  view?: TrialView;

  @ApiPropertyOptional({
    enum: ParetoFormat,
    enumName: 'ParetoFormat',
    default: ParetoFormat.json,
    description: 'csv: every row matching the filters in this order (limit, offset and after ignored)',
  })
  @IsOptional()
  @IsEnum(ParetoFormat)
  format?: ParetoFormat;
}

export class ParetoQueryDto {
  @ApiPropertyOptional({ enum: ParetoFormat, enumName: 'ParetoFormat', default: ParetoFormat.json })
  @IsOptional()
  @IsEnum(ParetoFormat)
  format?: ParetoFormat;
}

export class SearchesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_OFFSET, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  offset?: number;

  @ApiPropertyOptional({ enum: SearchStatus, enumName: 'SearchStatus' })
  @IsOptional()
  @IsEnum(SearchStatus)
  status?: SearchStatus;
}
