import type { Catalog, EvaluatorInfo } from '@detsearch/domain';

/** Presets and hardware profiles as the API serves them (read from search-spaces/ by libs/latency). */
export interface CatalogPort {
  /** Every name a client may choose from; `evaluators` are those the orchestrator offers. */
  catalog(evaluators: EvaluatorInfo[]): Catalog | Promise<Catalog>;
  presets(): unknown[] | Promise<unknown[]>;
  preset(name: string): unknown;
  hardwareProfiles(): unknown[] | Promise<unknown[]>;
}
