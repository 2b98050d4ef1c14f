import type { EvaluatorInfo } from './evaluators';
import { GENOME_DIMENSION_TABLE } from './genome-dimensions';
import { CONSTRAINT_TABLE, OBJECTIVE_TABLE } from './objectives';
import { STRATEGY_TABLE } from './strategies';
import { TRIAL_STATUS_TABLE } from './trial-status';

export interface CatalogPreset {
  name: string;
  description: string;
  hardwareProfile: string;
  strategy: string;
  /** The preset names no dataset: trials train on the generated synthetic set. */
  syntheticData: boolean;
}

export interface Catalog {
  strategies: { name: string; label: string; description: string; multiObjective: boolean }[];
  evaluators: { name: string; label: string; description: string; trains: boolean; analytic: boolean }[];
  objectives: {
    name: string;
    label: string;
    column: string;
    direction: 'minimize' | 'maximize';
    unit: string;
  }[];
  constraints: { name: string; label: string; column: string; unit: string }[];
  genomeDimensions: { name: string; label: string; kind: string; description: string }[];
  trialStatuses: { name: string; terminal: boolean }[];
  presets: CatalogPreset[];
  hardwareProfiles: { name: string; description: string }[];
}

/**
 * Every name a client may choose from, with labels, in one document. The registries give the
 * static parts; evaluators (which processes may add), presets and profiles (files) are passed in.
 */
export function buildCatalog(inputs: {
  evaluators: readonly EvaluatorInfo[];
  presets: readonly CatalogPreset[];
  hardwareProfiles: readonly { name: string; description: string }[];
}): Catalog {
  return {
    strategies: STRATEGY_TABLE.map(({ name, label, description, multiObjective }) => ({
      name,
      label,
      description,
      multiObjective,
    })),
    evaluators: inputs.evaluators.map(({ name, label, description, trains, analytic }) => ({
      name,
      label,
      description,
      trains,
      analytic,
    })),
    objectives: OBJECTIVE_TABLE.map(({ name, label, column, direction, unit }) => ({
      name,
      label,
      column,
      direction,
      unit,
    })),
    constraints: CONSTRAINT_TABLE.map(({ name, label, column, unit }) => ({ name, label, column, unit })),
    genomeDimensions: GENOME_DIMENSION_TABLE.map(({ name, label, kind, description }) => ({
      name,
      label,
      kind,
      description,
    })),
    trialStatuses: TRIAL_STATUS_TABLE.map(({ name, terminal }) => ({ name, terminal })),
    presets: inputs.presets.map(({ name, description, hardwareProfile, strategy, syntheticData }) => ({
      name,
      description,
      hardwareProfile,
      strategy,
      syntheticData,
    })),
    hardwareProfiles: inputs.hardwareProfiles.map(({ name, description }) => ({ name, description })),
  };
}
