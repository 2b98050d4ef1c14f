import { ApiProperty } from '@nestjs/swagger';
import { OBJECTIVES, STRATEGY_NAMES, TRIAL_STATUSES } from '@detsearch/domain';

export class CatalogStrategyDto {
  @ApiProperty({ enum: STRATEGY_NAMES }) name!: string;
  @ApiProperty() label!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: 'Handles several objectives natively (a Pareto front)' })
  multiObjective!: boolean;
}

export class CatalogEvaluatorDto {
  @ApiProperty() name!: string;
  @ApiProperty() label!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: 'It trains the candidate (slow, real mAP)' }) trains!: boolean;
  @ApiProperty({ description: 'An analytic stand-in for tests and demos: mAP is a formula' })
  analytic!: boolean;
}

export class CatalogObjectiveDto {
  @ApiProperty({ enum: OBJECTIVES }) name!: string;
  @ApiProperty() label!: string;
  @ApiProperty({ description: 'Trial column holding the value' }) column!: string;
  @ApiProperty({ enum: ['minimize', 'maximize'] }) direction!: string;
  @ApiProperty({ description: "Unit of the value ('' for a fraction)" }) unit!: string;
}

export class CatalogConstraintDto {
  @ApiProperty({ description: 'Key in a launch body’s constraints object' }) name!: string;
  @ApiProperty() label!: string;
  @ApiProperty() column!: string;
  @ApiProperty() unit!: string;
}

export class CatalogGenomeDimensionDto {
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Short label for tables and plots' }) label!: string;
  @ApiProperty({ enum: ['multiple', 'int', 'categorical', 'subset', 'fixed'] }) kind!: string;
  @ApiProperty() description!: string;
}

export class CatalogTrialStatusDto {
  @ApiProperty({ enum: TRIAL_STATUSES }) name!: string;
  @ApiProperty({ description: 'The trial never changes again' }) terminal!: boolean;
}

export class CatalogPresetDto {
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty() hardwareProfile!: string;
  @ApiProperty() strategy!: string;
  @ApiProperty({ description: 'Names no dataset: trials train on the generated synthetic set' })
  syntheticData!: boolean;
}

export class CatalogHardwareProfileDto {
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
}

export class CatalogDto {
  @ApiProperty({ type: [CatalogStrategyDto] }) strategies!: CatalogStrategyDto[];
  @ApiProperty({ type: [CatalogEvaluatorDto] }) evaluators!: CatalogEvaluatorDto[];
  @ApiProperty({ type: [CatalogObjectiveDto] }) objectives!: CatalogObjectiveDto[];
  @ApiProperty({ type: [CatalogConstraintDto] }) constraints!: CatalogConstraintDto[];
  @ApiProperty({ type: [CatalogGenomeDimensionDto] }) genomeDimensions!: CatalogGenomeDimensionDto[];
  @ApiProperty({ type: [CatalogTrialStatusDto] }) trialStatuses!: CatalogTrialStatusDto[];
  @ApiProperty({ type: [CatalogPresetDto] }) presets!: CatalogPresetDto[];
  @ApiProperty({ type: [CatalogHardwareProfileDto] }) hardwareProfiles!: CatalogHardwareProfileDto[];
}
